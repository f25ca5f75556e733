"""deq_nb: deep equilibrium models (DEQs) as literate notebooks.

Solvers and their registry (`deq_nb.solvers`), the implicit layer (`deq_nb.implicit`), the one DEQ base
(`deq_nb.deq`), the MDEQ and the DEQ-Transformer (`deq_nb.mdeq`, `deq_nb.transformer`), data (`deq_nb.data`),
evaluation at N test-time iterations and the one-pass sweep (`deq_nb.evaluate*`), named tasks and their runner
(`deq_nb.tasks`, `deq_nb.runner`), training (`deq_nb.train*`), and the experiments of "Test like you Train in Implicit
Deep Learning". The notebooks in the repository's `nbs/` are the source and the documentation; the README has a quick
start.
"""
__version__ = "0.1.0"
