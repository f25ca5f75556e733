"""Keep README.md equal to nbs/index.ipynb: its markdown cells, and its code cells (but hidden ones) as Python blocks.

Quarto, which nbdev_readme needs, is not available offline; the examples in code cells are run by the notebook's tests.

    python tools/sync_readme.py          # rewrite README.md from nbs/index.ipynb
    python tools/sync_readme.py --check  # exit 1 if README.md differs
"""
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def _part(cell) -> str:
    src = ''.join(cell['source']).strip()
    if cell['cell_type'] == 'markdown': return src
    if cell['cell_type'] != 'code' or src.startswith('#| hide'): return ''
    return f"```python\n{src}\n```"

def readme_from_index(index: Path = ROOT / 'nbs' / 'index.ipynb') -> str:
    "The markdown cells and the shown code cells of the index notebook, joined by blank lines."
    parts = [_part(c) for c in json.loads(index.read_text())['cells']]
    return '\n\n'.join(p for p in parts if p) + '\n'

if __name__ == '__main__':
    wanted, readme = readme_from_index(), ROOT / 'README.md'
    if '--check' in sys.argv[1:]:
        if not readme.exists() or readme.read_text() != wanted:
            sys.exit('README.md differs from nbs/index.ipynb: edit the notebook, then run `python tools/sync_readme.py`.')
        print('README.md matches nbs/index.ipynb')
    else:
        readme.write_text(wanted)
        print(f'wrote {readme}')
