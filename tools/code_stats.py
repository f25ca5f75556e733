"""Size of the package and of its notebooks' export cells.

    python tools/code_stats.py            # lines of deq_nb/ (all and non-blank), the largest export cells
    python tools/code_stats.py --top 10   # list more of the largest export cells
"""
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def package_lines(pkg: Path = ROOT / 'deq_nb') -> tuple:
    "(all lines, non-blank lines) of the package's modules, the generated index excluded."
    files = [p for p in pkg.rglob('*.py') if p.name != '_modidx.py']
    text = [p.read_text().splitlines() for p in files]
    return sum(map(len, text)), sum(1 for lines in text for l in lines if l.strip())

def export_cells(nbs: Path = ROOT / 'nbs') -> list:
    "(lines, notebook, first line of the cell) of every export cell."
    out = []
    for nb in sorted(nbs.glob('*.ipynb')):
        for cell in json.loads(nb.read_text())['cells']:
            src = ''.join(cell['source'])
            if cell['cell_type'] == 'code' and src.lstrip().startswith('#| export'):
                body = src.splitlines()[1:]
                first = next((l for l in body if l.strip() and not l.startswith(('from ', 'import '))), '')
                out.append((len(body), nb.name, first.strip()[:70]))
    return sorted(out, reverse=True)

if __name__ == '__main__':
    top = int(sys.argv[sys.argv.index('--top') + 1]) if '--top' in sys.argv else 5
    total, code = package_lines()
    cells = export_cells()
    print(f'deq_nb/: {total} lines, {code} non-blank (without _modidx.py)')
    print(f'{len(cells)} export cells; largest:')
    for n, nb, first in cells[:top]: print(f'  {n:4d} lines  {nb}  {first}')
