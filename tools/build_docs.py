#!/usr/bin/env python3
"""Build the documentation site offline, and keep README.md in sync with nbs/index.ipynb.

    python tools/build_docs.py                  # the site, into _docs/ (no Quarto, no network)
    python tools/build_docs.py --force          # the same, reprocessing every notebook (ignore nbdev's _proc/ cache)
    python tools/build_docs.py readme           # write README.md (and index_files/ for pictures) from nbs/index.ipynb
    python tools/build_docs.py readme --check   # exit 1 when README.md has drifted from nbs/index.ipynb

The site is made from nbdev's own notebook processing, exactly the `_proc/` notebooks that `nbdev_docs` hands to
Quarto (front matter, `#| hide` cells removed, `show_doc` rendered, doc links added), rendered by smalldocs, a
pure-Python renderer that reads nbdev's Quarto configuration (`nbs/_quarto.yml`, `nbs/nbdev.yml`, the sidebar).
What nbdev 2.4's `nbdev_proc_nbs`/`nbdev_docs` do first (install Quarto with sudo, `pip install -e` the project)
is skipped by calling nbdev's processing functions directly. Three things are adapted for an offline site:

- nbdev names a page by its `output-file` (`00_selector.ipynb` -> `selector.html`); smalldocs names it after its
  file, so the staged copy of each processed notebook is renamed after its `output-file`;
- nbdev's doc links are absolute (`https://<user>.github.io/<repo>/selector.html#x`); they become relative links;
- maths: smalldocs loads KaTeX from a CDN; the offline site serves the same KaTeX (0.16.11, npm's `katex` package,
  installed beforehand with `npm install --prefix .venv --no-save katex@0.16.11`) from `site_libs/katex/`, and the
  theme's Google web-font `@import` is dropped (the system font is used); pages get an inline empty favicon.
A broken notebook fails the build loudly; so do broken internal links and any page that loads a script, a
stylesheet, a font or a picture from outside the site.

The published site is still built by `nbdev_docs` with Quarto (.github/workflows/deploy.yaml) from the same sources.
"""
from __future__ import annotations

import argparse, base64, contextlib, difflib, io, json, os, posixpath, re, shutil, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCHEME = re.compile(r'^[a-zA-Z][a-zA-Z0-9+.-]*:|^//')


def _cfg():
    "nbdev's config of this repo (settings.ini), read from the repo root."
    os.chdir(ROOT)
    from nbdev.config import get_config
    return get_config()


def site_url(cfg=None) -> str:
    "The published site's URL, as nbdev writes it into nbs/nbdev.yml and into its doc links."
    cfg = cfg or _cfg()
    return f"{cfg.doc_host}{cfg.doc_baseurl}".rstrip('/')


def _front_matter(nb: dict) -> dict:
    "The YAML front matter that nbdev's FrontmatterProc puts in the first (raw) cell of a processed notebook."
    import yaml
    cells = nb.get('cells') or []
    if not cells or cells[0].get('cell_type') != 'raw': return {}
    src = ''.join(cells[0].get('source') or '')
    m = re.match(r'^\s*---\s*\n(.*?)\n---\s*$', src, re.S)
    return (yaml.safe_load(m.group(1)) or {}) if m else {}


def source_subtitle(nb: dict) -> str | None:
    """The subtitle a source notebook asks for: the `> ` block under the `# title` of its first markdown cell, all its
    lines joined. nbdev 2.4's front matter (`nbdev.frontmatter._md2dict`) keeps only the block's FIRST line as the page's
    `description`, which is why a subtitle wrapped over several `> ` lines was cut (e.g. "... Planted digits (with");
    write the `> ` line on one line (tools/check_docs.py checks that the page's subtitle equals this)."""
    for c in nb.get('cells') or []:
        if c.get('cell_type') != 'markdown': continue
        src = ''.join(c.get('source') or '')
        if not re.search(r'^#\s+\S', src, re.M): continue    # nbdev takes the first markdown cell with a `# title`
        lines, seen = [], False
        for line in src.split('\n'):
            if re.match(r'^>\s?', line): lines.append(re.sub(r'^>\s?', '', line).strip()); seen = True
            elif seen: break
        return ' '.join(l for l in lines if l) or None
    return None


def _directives(src: str) -> dict:
    "The `#| key: value` options at the top of a code cell (Quarto's cell options)."
    import yaml
    opts = []
    for line in src.split('\n'):
        if not line.startswith('#|'): break
        opts.append(line[2:].strip())
    try: d = yaml.safe_load('\n'.join(opts)) if opts else {}
    except yaml.YAMLError: d = {}
    return d if isinstance(d, dict) else {}


# ----------------------------------------------------------------------------------------------- nbdev's processing

def sidebar_yml(cfg) -> str:
    "The sidebar: nbs/sidebar.yml when settings.ini says custom_sidebar = True, else the one nbdev_docs generates."
    from nbdev.config import str2bool
    from nbdev.quarto import nbdev_sidebar
    custom = cfg.nbs_path / 'sidebar.yml'
    if str2bool(cfg.get('custom_sidebar', False)):
        if not custom.exists(): sys.exit('docs: settings.ini has custom_sidebar = True but nbs/sidebar.yml does not exist')
        return custom.read_text()
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf): nbdev_sidebar.__wrapped__(path=cfg.nbs_path, printit=True)
    return buf.getvalue()


def nbdev_yml(cfg) -> str:
    "What nbdev's refresh_quarto_yml writes into nbs/nbdev.yml from settings.ini."
    from nbdev.quarto import _nbdev_yml
    vals = {k: cfg[k] for k in ['title', 'description', 'branch', 'git_url', 'doc_host', 'doc_baseurl']}
    vals['doc_path'] = cfg.doc_path.name
    return _nbdev_yml.format(**vals)


def _proc_one(item):
    "nbdev's docs processing of one file (nbdev.serve_drv.main, as proc_nbs runs it), returning its error instead of raising it."
    import traceback
    import nbdev.serve_drv
    try: nbdev.serve_drv.main(item)
    except Exception as e:
        chain, x = [], e
        while x is not None and len(chain) < 20: chain.append(x); x = x.__cause__ or x.__context__
        root = chain[-1]
        return str(item[0]), str(e).strip(), ''.join(traceback.format_exception_only(type(root), root)).strip()


def _imports(src: str) -> list[str]:
    "The import statements of a cell's source (nbdev's docs processing runs every cell that has one)."
    import ast
    try: tree = ast.parse(src)
    except SyntaxError: return []
    return [ast.get_source_segment(src, n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]


def process_notebooks(cfg, force: bool = False, n_workers: int = 2) -> Path:
    """nbdev's docs processing of nbs/ into _proc/: the body of nbdev.serve.proc_nbs (what nbdev_proc_nbs and nbdev_docs run
    after installing Quarto and the project, which is skipped here), except that every notebook that fails is reported."""
    from fastcore.parallel import parallel
    from nbdev.doclinks import nbglob
    from nbdev.serve import _proc_file
    cache, path = cfg.config_path / '_proc', cfg.nbs_path
    files = nbglob(path, func=Path, file_glob='', file_re='')
    for extra in ('_quarto.yml', '_brand.yml'):
        if (path / extra).exists(): files.append(path / extra)
    chk_mtime = max(cfg.config_file.stat().st_mtime, Path(_proc_file.__code__.co_filename).stat().st_mtime)
    cache.mkdir(parents=True, exist_ok=True)
    cache_mtime = cache.stat().st_mtime
    if force or cache_mtime < chk_mtime: shutil.rmtree(cache); cache.mkdir()
    todo = files.map(_proc_file, mtime=cache_mtime, cache=cache, path=path).filter()
    if str(Path(__file__).parent) not in sys.path: sys.path.insert(0, str(Path(__file__).parent))
    from build_docs import _proc_one as worker      # by module name, so that spawned workers can import it
    errs = [r for r in parallel(worker, todo, n_workers=n_workers, pause=0.01, method='spawn') if r]
    if errs:
        for src, _, _ in errs:      # never leave an older processed copy of a broken notebook behind
            d = cache / Path(src).relative_to(path)
            if d.exists(): d.unlink()
        lines = []
        for src, msg, root in errs:
            msg = msg.splitlines()
            lines += [f'{Path(src).relative_to(cfg.config_path)}: {msg[0] if msg else ""}', *['    ' + l for l in msg[1:8]],
                      *(['    ...'] if len(msg) > 8 else []), f'    -> {root.splitlines()[-1] if root else "?"}']
            imps = _imports('\n'.join(msg[1:]))
            if imps: lines.append(f'    (nbdev runs this cell for show_doc because it imports: {"; ".join(imps)})')
        raise SystemExit(f'docs: nbdev could not process {len(errs)} notebook(s) (nbdev_docs with Quarto would fail the same way):\n  '
                         + '\n  '.join(lines) + '\n  (for show_doc, nbdev runs every exported cell and every cell that '
                         'imports something, and no other cell: keep imports in cells of their own)')
    cache.touch()
    return cache


# ----------------------------------------------------------------------------------------------- staging for smalldocs

def _rel_link(target: str, page_dir: str) -> str:
    "A link from a page in `page_dir` (relative to the site root) to `target` (relative to the site root)."
    path, sep, frag = target.partition('#')
    r = posixpath.relpath(path or 'index.html', page_dir or '.')
    return r + (sep + frag if sep else '')


_LINK_TARGET = re.compile(r'(\]\(\s*<?|\b(?:href|src)\s*=\s*["\'])([^)\s"\'<>]+)')


def rewrite_links(text: str, page_dir: str, url: str, renames: dict) -> str:
    "Make nbdev's absolute doc links relative, and point links at renamed notebooks to their new names."
    absolute = re.compile(re.escape(url) + r'(?:/([^)\s"\'<>]*))?')
    def fix(m):
        t = m.group(2)
        a = absolute.fullmatch(t)
        if a: return m.group(1) + _rel_link(a.group(1) or 'index.html', page_dir)
        if SCHEME.match(t) or t.startswith(('#', '/')): return m.group(0)
        path, sep, frag = t.partition('#')
        full = posixpath.normpath(posixpath.join(page_dir, path))
        for cand in (full, posixpath.splitext(full)[0] + '.ipynb'):
            if cand in renames:
                new = renames[cand]
                if path.endswith('.html'): new = posixpath.splitext(new)[0] + '.html'
                return m.group(1) + posixpath.relpath(new, page_dir or '.') + sep + frag
        return m.group(0)
    return _LINK_TARGET.sub(fix, text)


def _rewrite_nb(nb: dict, page_dir: str, url: str, renames: dict):
    "Rewrite the links of every markdown cell and every markdown/HTML output of a processed notebook."
    def j(s): return ''.join(s) if isinstance(s, list) else (s or '')
    for c in nb.get('cells', []):
        if c.get('cell_type') == 'markdown': c['source'] = rewrite_links(j(c.get('source')), page_dir, url, renames)
        for o in c.get('outputs', []) or []:
            d = o.get('data') or {}
            for k in ('text/markdown', 'text/html'):
                if k in d: d[k] = rewrite_links(j(d[k]), page_dir, url, renames)


def _map_sidebar(node, renames: dict, key: str = 'contents'):
    "Point the sidebar's entries (`contents` items, `href`, `file`) at the renamed notebooks."
    if isinstance(node, str): return renames.get(node.lstrip('/'), node) if key in ('contents', 'href', 'file') else node
    if isinstance(node, list): return [_map_sidebar(o, renames, key) for o in node]
    if isinstance(node, dict): return {k: _map_sidebar(v, renames, k) for k, v in node.items()}
    return node


def stage(cfg, cache: Path, dest: Path) -> dict:
    "Copy the current sources' processed files from _proc/ into `dest`, each notebook named after its output-file."
    import yaml
    nbs, url = cfg.nbs_path, site_url(cfg)
    files = {}
    for f in sorted(cache.rglob('*')):
        if not f.is_file() or any(p.startswith('.') for p in f.relative_to(cache).parts): continue
        rel = f.relative_to(cache).as_posix()
        if (nbs / rel).exists() or (nbs / (rel + '.py')).exists(): files[rel] = f   # skip what was deleted from nbs/
    renames = {}
    for rel, f in files.items():
        if not rel.endswith('.ipynb'): continue
        out = _front_matter(json.loads(f.read_text(encoding='utf-8'))).get('output-file')
        new = posixpath.join(posixpath.dirname(rel), posixpath.splitext(out)[0] + '.ipynb') if out else rel
        renames[rel] = new
    names = list(renames.values()) + [r for r in files if not r.endswith('.ipynb')]
    clash = {n for n in names if names.count(n) > 1}
    if clash: raise SystemExit(f'docs: two notebooks would make the same page: {sorted(clash)}')
    for rel, f in files.items():
        to = dest / renames.get(rel, rel)
        to.parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith('.ipynb'):
            nb = json.loads(f.read_text(encoding='utf-8'))
            _rewrite_nb(nb, posixpath.dirname(renames[rel]), url, renames)
            to.write_text(json.dumps(nb, ensure_ascii=False, indent=1), encoding='utf-8')
        else: shutil.copy2(f, to)
    side = yaml.safe_load(sidebar_yml(cfg)) or {}
    (dest / 'sidebar.yml').write_text(yaml.dump(_map_sidebar(side, renames), sort_keys=False))
    return renames


# ----------------------------------------------------------------------------------------------- offline post-processing

KATEX_VERSION = '0.16.11'   # the KaTeX that smalldocs 0.5.4 loads from its CDN; installed with npm, see katex_dir
KATEX_INSTALL = f'npm install --prefix .venv --no-save --no-audit --no-fund katex@{KATEX_VERSION}'


def katex_dir() -> Path:
    "KaTeX's dist/ folder, installed beforehand (nothing is downloaded here): $KATEX_DIST, else npm's katex in the venv or the repo."
    import sysconfig
    cands = [os.environ.get('KATEX_DIST')] + [str(Path(p) / 'node_modules' / 'katex' / 'dist')
             for p in (sys.prefix, ROOT / '.venv', ROOT, sysconfig.get_paths()['data'])]
    for c in filter(None, cands):
        d = Path(c)
        if (d / 'katex.min.js').exists() and (d / 'contrib' / 'auto-render.min.js').exists() and (d / 'fonts').is_dir(): return d
    raise SystemExit(f'docs: the offline site serves KaTeX itself; install it first (from the repo root): {KATEX_INSTALL}\n'
                     f'      (or point KATEX_DIST at a KaTeX dist/ folder)')


def katex_version(d: Path) -> str:
    "The version of a KaTeX dist/ folder (from its package.json, else from katex.min.js)."
    pj = d.parent / 'package.json'
    if pj.exists(): return json.loads(pj.read_text()).get('version', '?')
    m = re.search(r'version:"([0-9.]+)"', (d / 'katex.min.js').read_text(errors='replace'))
    return m.group(1) if m else '?'


_EXTERNAL_TAG = re.compile(r'<(script|link|img|iframe|source|video|audio|embed|object)\b[^>]*?\b(src|href|data)\s*=\s*["\']((?:https?:)?//[^"\']*)["\'][^>]*>', re.I)
_EXTERNAL_CSS = re.compile(r'@import\s+(?:url\()?\s*["\']?((?:https?:)?//[^"\')\s;]*)|url\(\s*["\']?((?:https?:)?//[^"\')\s]*)', re.I)


def external_refs(docs: Path) -> list[str]:
    "Every script, stylesheet, font or picture that a page or a stylesheet of the site would load from outside it."
    bad = []
    for f in sorted(docs.rglob('*.html')):
        for m in _EXTERNAL_TAG.finditer(f.read_text(encoding='utf-8', errors='replace')):
            if m.group(1).lower() == 'link' and not re.search(r'rel\s*=\s*["\'](?:stylesheet|preload|icon|modulepreload)', m.group(0), re.I): continue
            bad.append(f'{f.relative_to(docs)}: <{m.group(1)}> {m.group(3)}')
    for f in sorted(docs.rglob('*.css')):
        text = f.read_text(encoding='utf-8', errors='replace')
        text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
        bad += [f'{f.relative_to(docs)}: {m.group(1) or m.group(2)}' for m in _EXTERNAL_CSS.finditer(text)
                if not (m.group(1) or m.group(2) or '').startswith('http://www.w3.org/')]
    return bad


def make_offline(docs: Path) -> int:
    "Serve KaTeX from the site itself, keep the browser from asking for /favicon.ico, drop web-font imports, and fail on anything still loaded from outside."
    from smalldocs.layout import KATEX
    src = katex_dir()
    dest = docs / 'site_libs' / 'katex'
    dest.mkdir(parents=True, exist_ok=True)
    for f in ('katex.min.js', 'katex.min.css'): shutil.copy2(src / f, dest / f)
    shutil.copytree(src / 'fonts', dest / 'fonts', dirs_exist_ok=True)
    (dest / 'contrib').mkdir(exist_ok=True)
    shutil.copy2(src / 'contrib' / 'auto-render.min.js', dest / 'contrib' / 'auto-render.min.js')
    n_math = 0
    for f in docs.rglob('*.html'):
        if 'site_libs' in f.relative_to(docs).parts: continue
        text = f.read_text(encoding='utf-8')
        if not re.search(r'<link\b[^>]*rel="(?:shortcut )?icon"', text):    # else the browser asks the server for /favicon.ico
            text = text.replace('<head>', '<head><link rel="icon" href="data:,">', 1)
        if KATEX in text:
            offset = posixpath.relpath('.', f.parent.relative_to(docs).as_posix() or '.')
            text = text.replace(KATEX, ('' if offset == '.' else offset + '/') + 'site_libs/katex')
            n_math += 1
        f.write_text(text, encoding='utf-8')
    for f in (docs / 'site_libs').rglob('*.css'):
        text = f.read_text(encoding='utf-8')
        new = re.sub(r'@import\s+url\(\s*["\']?https?://[^)]*\)[^;]*;', '', text)   # the theme's Google web font: the system font instead
        if new != text: f.write_text(new, encoding='utf-8')
    bad = external_refs(docs)
    if bad: raise SystemExit('docs: the offline site would load these from outside:\n  ' + '\n  '.join(bad[:30]))
    return n_math


# ----------------------------------------------------------------------------------------------- the site

# smalldocs' notes about what this build handles itself (output-file) or what only Quarto's outputs use
HANDLED = re.compile(r'output-file is not read|format commonmark is not built|format\.html\.keep-md is ignored')


def build(force: bool = False, n_workers: int = 2, strict: bool = True, quiet: bool = False) -> dict:
    "Build the offline site into the doc_path of settings.ini (_docs/). Returns a summary; exits on any error."
    t0 = time.time()
    cfg = _cfg()
    try: from smalldocs.site import build as sd_build
    except ImportError: raise SystemExit('docs: the offline build needs smalldocs: pip install smalldocs==0.5.4')
    from smalldocs.config import BuildError, ConfigError
    cache = process_notebooks(cfg, force=force, n_workers=n_workers)
    t_proc = time.time() - t0
    with tempfile.TemporaryDirectory(prefix='rekd_docs_') as tmp:
        src = Path(tmp) / 'site'
        renames = stage(cfg, cache, src)
        try:
            with contextlib.redirect_stderr(io.StringIO()) if quiet else contextlib.nullcontext():
                site = sd_build(src, quiet=True)
        except (BuildError, ConfigError) as e: raise SystemExit(f'docs: smalldocs could not build the site: {e}') from e
        broken = [w for w in site.warnings if 'broken link' in w]
        for w in site.warnings:
            if w not in broken and not quiet and not HANDLED.search(w): print(f'docs: note: {w}', file=sys.stderr)
        if broken and strict: raise SystemExit('docs: broken links:\n  ' + '\n  '.join(broken))
        docs = cfg.doc_path
        shutil.rmtree(docs, ignore_errors=True)
        shutil.move(str(site.out), str(docs))
    n_math = make_offline(docs)
    kv = katex_version(katex_dir())
    if kv != KATEX_VERSION and not quiet: print(f'docs: note: KaTeX {kv} serves the maths (smalldocs 0.5.4 was made for {KATEX_VERSION})', file=sys.stderr)
    pages = sorted(p.relative_to(docs).as_posix() for p in docs.rglob('*.html') if 'site_libs' not in p.relative_to(docs).parts)
    res = dict(docs=str(docs), pages=pages, renames=renames, maths_pages=n_math, seconds=round(time.time() - t0, 1),
               proc_seconds=round(t_proc, 1), warnings=site.warnings, katex=kv)
    if not quiet: print(f'docs: wrote {len(pages)} pages to {docs} in {res["seconds"]}s (nbdev processing {res["proc_seconds"]}s)')
    return res


# ----------------------------------------------------------------------------------------------- the README

def _text(v) -> str: return ''.join(v) if isinstance(v, list) else (v or '')


def render_readme(cfg=None) -> tuple[str, dict]:
    "README.md from nbs/index.ipynb as nbdev processes it: markdown cells, shown code cells and their outputs. Returns (text, {path: bytes}) for pictures."
    cfg = cfg or _cfg()
    from nbdev.doclinks import _nbpath2html
    from nbdev.processors import FilterDefaults
    from nbdev import serve_drv
    src = cfg.nbs_path / cfg.get('readme_nb', 'index.ipynb')
    with tempfile.TemporaryDirectory() as tmp:
        dst = Path(tmp) / src.name
        env = os.environ.get('IN_TEST')
        try: serve_drv.main((src, dst, FilterDefaults))    # nbdev's own processing of one notebook (as proc_nbs does)
        finally:
            if env is None: os.environ.pop('IN_TEST', None)
            else: os.environ['IN_TEST'] = env
        nb = json.loads(dst.read_text(encoding='utf-8'))
    url, stem = site_url(cfg), src.stem
    def link(t: str) -> str:
        "A relative link of the notebook, made to work from the repo root (pictures) or the site (pages)."
        if SCHEME.match(t) or t.startswith(('#', '/')): return t
        path, sep, frag = t.partition('#')
        if path.endswith(('.ipynb', '.qmd')): return f'{url}/{_nbpath2html(Path(path)).as_posix()}{sep}{frag}'
        if path.endswith('.html'): return f'{url}/{path}{sep}{frag}'     # a page of the site, which README.md is not part of
        return posixpath.normpath(posixpath.join(cfg.nbs_path.relative_to(cfg.config_path).as_posix(), path)) + sep + frag
    def fix_links(s: str) -> str: return _LINK_TARGET.sub(lambda m: m.group(1) + link(m.group(2)), s)
    fm = _front_matter(nb)
    parts, files = [], {}
    if fm.get('title'): parts.append(f"# {fm['title']}")
    if fm.get('description'): parts.append(f"> {fm['description']}")
    for i, c in enumerate(nb['cells']):
        s = _text(c.get('source'))
        if c['cell_type'] == 'raw':
            if i == 0 and fm: continue
            if s.strip(): parts.append(s.strip())
        elif c['cell_type'] == 'markdown':
            if s.strip(): parts.append(fix_links(s.strip()))
        elif c['cell_type'] == 'code':
            opts = _directives(s)
            if opts.get('include') is False: continue
            code = '\n'.join(l for l in s.split('\n') if not l.startswith('#|')).strip()
            if code and opts.get('echo', True) is not False: parts.append(f'```python\n{code}\n```')
            if opts.get('output', True) is False: continue
            for k, o in enumerate(c.get('outputs') or [], 1):
                if o.get('output_type') == 'stream':
                    t = _text(o.get('text')).rstrip('\n')
                    if t: parts.append('\n'.join('    ' + l for l in t.split('\n')))
                    continue
                d = o.get('data') or {}
                img = next((m for m in ('image/png', 'image/jpeg', 'image/gif', 'image/svg+xml') if m in d), None)
                if 'text/markdown' in d: parts.append(fix_links(_text(d['text/markdown']).strip()))
                elif img:
                    ext = {'image/svg+xml': 'svg', 'image/jpeg': 'jpg'}.get(img, img.split('/')[1])
                    name = f'{stem}_files/figure-commonmark/cell-{i}-output-{k}.{ext}'
                    files[name] = _text(d[img]).encode() if ext == 'svg' else base64.b64decode(_text(d[img]))
                    parts.append(f'![]({name})')
                elif 'text/html' in d:
                    parts.append(re.sub(r'<style\b.*?</style>\s*', '', _text(d['text/html']), flags=re.S).strip())
                elif 'text/plain' in d:
                    parts.append('\n'.join('    ' + l for l in _text(d['text/plain']).rstrip('\n').split('\n')))
    return '\n\n'.join(parts) + '\n', files


def _words(s: str) -> list[str]:
    "The words of a markdown text, without comments: what stays the same however a renderer lays it out."
    return re.findall(r'[A-Za-z0-9]+', re.sub(r'<!--.*?-->', '', s, flags=re.S))


def readme(check: bool = False) -> int:
    "Write README.md from nbs/index.ipynb, or (check=True) report whether README.md matches it. Returns an exit code."
    cfg = _cfg()
    text, files = render_readme(cfg)
    path = cfg.config_path / 'README.md'
    if not check:
        path.write_text(text, encoding='utf-8')
        stale = cfg.config_path / f"{Path(cfg.get('readme_nb', 'index.ipynb')).stem}_files"
        if stale.exists(): shutil.rmtree(stale)
        for name, data in files.items():
            (cfg.config_path / name).parent.mkdir(parents=True, exist_ok=True)
            (cfg.config_path / name).write_bytes(data)
        print(f'wrote README.md from {cfg.nbs_path.name}/{cfg.get("readme_nb", "index.ipynb")}' + (f' and {len(files)} picture(s)' if files else ''))
        return 0
    have = path.read_text(encoding='utf-8') if path.exists() else ''
    missing = [n for n, d in files.items() if not (cfg.config_path / n).exists() or (cfg.config_path / n).read_bytes() != d]
    if have == text and not missing:
        print('README.md matches nbs/index.ipynb'); return 0
    if have and _words(have) == _words(text) and not missing:   # laid out by Quarto (nbdev_readme): same content
        print('README.md matches nbs/index.ipynb (same words, another layout: e.g. Quarto\'s nbdev_readme)'); return 0
    diff = list(difflib.unified_diff(have.splitlines(), text.splitlines(), 'README.md', 'from nbs/index.ipynb', lineterm='', n=1))
    print('README.md has drifted from nbs/index.ipynb; run: python tools/build_docs.py readme')
    print('\n'.join(diff[:60]) + ('\n...' if len(diff) > 60 else ''))
    if missing: print('missing or different pictures: ' + ', '.join(missing))
    return 1


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('what', nargs='?', default='site', choices=['site', 'readme'], help='site (default): build _docs/; readme: write README.md')
    p.add_argument('--check', action='store_true', help='readme: only check that README.md matches nbs/index.ipynb')
    p.add_argument('--force', action='store_true', help='site: reprocess every notebook (ignore the _proc/ cache)')
    p.add_argument('--n_workers', type=int, default=2, help='site: processes for nbdev\'s notebook processing')
    p.add_argument('--no-strict', dest='strict', action='store_false', help='site: build even with broken links')
    a = p.parse_args(argv)
    if a.what == 'readme': return readme(check=a.check)
    build(force=a.force, n_workers=a.n_workers, strict=a.strict)
    return 0


if __name__ == '__main__': sys.exit(main())
