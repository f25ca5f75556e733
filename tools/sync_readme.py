"""Keep README.md equal to the markdown of nbs/index.ipynb (Quarto, which nbdev_readme needs, is not available offline).

    python tools/sync_readme.py          # rewrite README.md from nbs/index.ipynb
    python tools/sync_readme.py --check  # exit 1 if README.md differs
"""
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def readme_from_index(index: Path = ROOT / 'nbs' / 'index.ipynb') -> str:
    "The markdown cells of the index notebook, joined by blank lines."
    cells = json.loads(index.read_text())['cells']
    parts = [''.join(c['source']).strip() for c in cells if c['cell_type'] == 'markdown']
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
