#!/usr/bin/env python3
"""Check the documentation: README in sync, Quarto config valid, offline site builds, and every page works in Chromium.

    python tools/check_docs.py                       # all checks; ends with "docs: N passed, N failed, N skipped"
    python tools/check_docs.py --no-build            # check the _docs/ already built
    python tools/check_docs.py --screenshots DIR     # also save a PNG of every page

One check = one line PASS/FAIL/SKIP:
- readme: README.md matches nbs/index.ipynb (tools/build_docs.py readme --check);
- quarto-config: nbs/_quarto.yml, nbs/nbdev.yml (as nbdev generates it from settings.ini), nbs/styles.css and the
  sidebar are what `nbdev_docs` (Quarto) needs;
- build: `python tools/build_docs.py` builds _docs/ offline with no broken link and nothing loaded from outside;
- every-notebook: every notebook in nbs/ (found by globbing, so a new notebook is covered without editing this file) was
  processed by nbdev and made a page of the site;
- subtitles: each page's subtitle (the `description` of nbdev's front matter, which Quarto and the offline site both
  show) equals its notebook's `> ` line in full (nbdev keeps only the first line of a wrapped `> ` block);
- page <name>: one per page, opened in headless Chromium from a server on 127.0.0.1: status 200, no console error,
  no failed load, no request leaving 127.0.0.1, every sidebar link and internal link (with its #anchor) resolves,
  the page is in the sidebar, its subtitle shows the notebook's `> ` line, maths typeset by the site's own KaTeX,
  pictures loaded (every page that is not an API page must show at least the pictures its notebook stores, and the
  home page at least one),
  and an API page shows every function and class its module exports, each with its show_doc anchor (exported names
  that are not functions or classes, such as constants, are only noted when the page never mentions them).
The page checks are skipped, with a message, where no Chromium is installed (Debian: apt-get install chromium).
Exit status 0 when nothing failed.
"""
from __future__ import annotations

import argparse, ast, base64, contextlib, functools, http.server, io, json, os, re, shutil, socketserver
import subprocess, sys, tempfile, threading, time, traceback
from pathlib import Path
from urllib.parse import urljoin, unquote

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_docs  # noqa: E402

ROOT = build_docs.ROOT
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync']
RESULTS: list[tuple[str, str, str]] = []


def record(name: str, status: str, detail: str = ''):
    RESULTS.append((name, status, detail))
    print(f'{status:4} {name}' + (f': {detail}' if detail else ''), flush=True)


def run_check(name: str, fn):
    "Run one check; any exception or SystemExit is its failure."
    try:
        detail = fn()
        record(name, 'PASS', detail or '')
        return True
    except SystemExit as e:
        record(name, 'FAIL', str(e.code if e.code is not None else 'exit'))
    except AssertionError as e:
        record(name, 'FAIL', str(e))
    except Exception as e:
        record(name, 'FAIL', ''.join(traceback.format_exception_only(e)).strip())
    return False


# ----------------------------------------------------------------------------------------------- checks without a browser

def check_readme():
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf): rc = build_docs.readme(check=True)
    assert rc == 0, buf.getvalue().strip()
    return buf.getvalue().strip()


def check_quarto_config():
    import yaml
    cfg = build_docs._cfg()
    nbs = cfg.nbs_path
    for f in ('_quarto.yml', 'nbdev.yml', 'styles.css'): assert (nbs / f).exists(), f'nbs/{f} is missing'
    q = yaml.safe_load((nbs / '_quarto.yml').read_text())
    assert q.get('project', {}).get('type') == 'website', '_quarto.yml: project.type must be website'
    metas = q.get('metadata-files') or []
    assert 'nbdev.yml' in metas and 'sidebar.yml' in metas, '_quarto.yml: metadata-files must list nbdev.yml and sidebar.yml'
    css = (q.get('format', {}).get('html') or {}).get('css')
    for c in ([css] if isinstance(css, str) else css or []): assert (nbs / c).exists(), f'_quarto.yml names css {c}, which is missing'
    want = build_docs.nbdev_yml(cfg)
    assert yaml.safe_load((nbs / 'nbdev.yml').read_text()) == yaml.safe_load(want), \
        'nbs/nbdev.yml differs from what nbdev_docs writes from settings.ini (nbdev.quarto.refresh_quarto_yml): update it'
    side = yaml.safe_load(build_docs.sidebar_yml(cfg)) or {}
    contents = side.get('website', {}).get('sidebar', {}).get('contents')
    assert contents, 'the sidebar has no contents'
    def entries(n):
        if isinstance(n, str): yield n
        elif isinstance(n, list):
            for o in n: yield from entries(o)
        elif isinstance(n, dict):
            for k in ('href', 'contents', 'file'):
                if k in n: yield from entries(n[k])
    missing = [e for e in entries(contents) if not (nbs / e.lstrip('/')).exists()]
    assert not missing, f'sidebar entries with no source in nbs/: {missing}'
    kind = 'nbs/sidebar.yml (custom_sidebar = True)' if 'True' in str(cfg.get('custom_sidebar')) else 'generated by nbdev_sidebar'
    return f'sidebar {kind}, {len(list(entries(contents)))} entries'


# ----------------------------------------------------------------------------------------------- expectations per page

def exported_names(cfg) -> dict[str, dict]:
    """{page: {name: anchor}}: every name in a module's __all__, on the page of the notebook that exports it; the anchor
    is show_doc's (from rekd_nb/_modidx.py) for a function or a class, None for another name (a constant)."""
    lib = cfg.lib_path
    modidx = {}
    f = lib / '_modidx.py'
    if f.exists():
        ns = {}; exec(f.read_text(), ns)
        for mod, syms in ns['d'].get('syms', {}).items():
            for qual, (doc, _) in syms.items():
                name = qual[len(mod) + 1:]
                if '.' not in name: modidx[(mod, name)] = doc
    page_of_mod = {}
    for nb in sorted(cfg.nbs_path.rglob('*.ipynb')):
        if any(p.startswith(('.', '_')) for p in nb.relative_to(cfg.nbs_path).parts): continue
        try: cells = json.loads(nb.read_text(encoding='utf-8'))['cells']
        except Exception: continue
        for c in cells:
            m = re.search(r'^\s*#\|\s*default_exp\s+(\S+)', ''.join(c.get('source') or ''), re.M) if c['cell_type'] == 'code' else None
            if m:
                from nbdev.doclinks import _nbpath2html
                page_of_mod[f'{cfg.lib_name}.{m.group(1)}'] = _nbpath2html(nb.relative_to(cfg.nbs_path)).as_posix()
                break
    out: dict[str, dict] = {}
    for py in sorted(lib.rglob('*.py')):
        mod = '.'.join(py.relative_to(lib.parent).with_suffix('').parts)
        if py.name.startswith('_') or mod not in page_of_mod: continue
        names = []
        for node in ast.parse(py.read_text(encoding='utf-8')).body:
            if isinstance(node, ast.Assign) and any(getattr(t, 'id', '') == '__all__' for t in node.targets):
                with contextlib.suppress(Exception): names = list(ast.literal_eval(node.value))
        for n in names:
            doc = modidx.get((mod, n))     # functions and classes; None for other names (constants)
            page, _, anchor = (doc or page_of_mod[mod]).partition('#')
            out.setdefault(page, {})[n] = (anchor or '') if doc else None
    return out


def source_notebooks(cfg) -> list[Path]:
    "Every notebook of nbs/ that nbdev makes a page of (as nbdev's nbglob finds them: not in `_` or `.` folders or names)."
    return [nb for nb in sorted(cfg.nbs_path.rglob('*.ipynb'))
            if not any(p.startswith(('.', '_')) for p in nb.relative_to(cfg.nbs_path).parts)]


def is_api_notebook(nb: Path) -> bool:
    "Whether a notebook exports a module (has a `#| default_exp` cell)."
    cells = json.loads(nb.read_text(encoding='utf-8')).get('cells', [])
    return any(c['cell_type'] == 'code' and re.search(r'^\s*#\|\s*default_exp\s', ''.join(c.get('source') or ''), re.M) for c in cells)


def expected_images(cfg, cache: Path) -> dict[str, int]:
    """{page: number of pictures}: for every notebook that is not an API page (home, experiments, tutorials, guides),
    the pictures it stores, as nbdev processed it."""
    out = {}
    for nb in source_notebooks(cfg):
        if is_api_notebook(nb): continue
        p = cache / nb.relative_to(cfg.nbs_path)
        if not p.exists(): continue
        d = json.loads(p.read_text(encoding='utf-8'))
        fm = build_docs._front_matter(d)
        n = 0
        for c in d['cells']:
            src = ''.join(c.get('source') or '')
            if c['cell_type'] == 'markdown':
                n += len(re.findall(r'!\[[^\]]*\]\(', src)) + len(re.findall(r'<img\b', src, re.I))
            elif c['cell_type'] == 'code':
                o = build_docs._directives(src)
                if o.get('include') is False or o.get('output', True) is False: continue
                n += sum(any(k.startswith('image/') for k in (x.get('data') or {})) for x in c.get('outputs') or [])
        out[fm.get('output-file', nb.with_suffix('.html').name)] = n
    return out


def page_of(cfg, nb: Path) -> str:
    "The page nbdev makes of a source notebook (`00_selector.ipynb` -> `selector.html`)."
    from nbdev.doclinks import _nbpath2html
    return _nbpath2html(nb.relative_to(cfg.nbs_path)).as_posix()


def expected_subtitles(cfg) -> dict[str, str]:
    "{page: subtitle}: the `> ` line of every notebook that has one (build_docs.source_subtitle)."
    out = {}
    for nb in source_notebooks(cfg):
        sub = build_docs.source_subtitle(json.loads(nb.read_text(encoding='utf-8')))
        if sub: out[page_of(cfg, nb)] = sub
    return out


def check_every_notebook(cfg=None, docs: Path | None = None) -> str:
    "Every source notebook was processed by nbdev (into _proc/) and is a page of the built site."
    cfg = cfg or build_docs._cfg()
    cache, docs = cfg.config_path / '_proc', docs or cfg.doc_path
    nbs = source_notebooks(cfg)
    unprocessed = [nb.relative_to(cfg.config_path).as_posix() for nb in nbs if not (cache / nb.relative_to(cfg.nbs_path)).exists()]
    no_page = [f'{nb.name} -> {page_of(cfg, nb)}' for nb in nbs if not (docs / page_of(cfg, nb)).exists()]
    assert not unprocessed, f'nbdev did not process: {unprocessed}'
    assert not no_page, f'notebooks without a page: {no_page}'
    return f'{len(nbs)} notebooks, {len(nbs)} pages'


def check_subtitles(cfg=None) -> str:
    """Each page's subtitle, the `description` of the front matter nbdev wrote into _proc/ (what Quarto and the offline
    site show), equals its notebook's `> ` line in full."""
    cfg = cfg or build_docs._cfg()
    cache, bad, n = cfg.config_path / '_proc', [], 0
    for nb in source_notebooks(cfg):
        want = build_docs.source_subtitle(json.loads(nb.read_text(encoding='utf-8')))
        proc = cache / nb.relative_to(cfg.nbs_path)
        if not want or not proc.exists(): continue
        have = build_docs._front_matter(json.loads(proc.read_text(encoding='utf-8'))).get('description')
        n += 1
        if have != want:
            bad.append(f'{nb.name}: the page\'s subtitle ends {str(have)[-40:]!r}, the notebook\'s `> ` block {want[-40:]!r} '
                       '(nbdev keeps only the first line of a `> ` block: write the subtitle on one line)')
    assert not bad, '; '.join(bad)
    return f'{n} subtitles match their notebooks'


# ----------------------------------------------------------------------------------------------- Chromium over the DevTools protocol

def find_chromium() -> str | None:
    for c in (os.environ.get('CHROMIUM'), 'chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'):
        if c and shutil.which(c): return shutil.which(c)
    return None


class Browser:
    "Headless Chromium driven through the DevTools protocol (websocket-client), one tab, events kept per page."
    def __init__(self, exe: str):
        import websocket
        self.profile = tempfile.mkdtemp(prefix='rekd_chromium_')
        # Belt and braces, besides recording every request: names other than 127.0.0.1 do not resolve, and anything not
        # on the loopback goes to a proxy at 127.0.0.1:9, where nothing listens
        args = [exe, *FLAGS, f'--user-data-dir={self.profile}', '--remote-debugging-port=0', '--remote-allow-origins=*',
                '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1', '--proxy-server=127.0.0.1:9',
                '--window-size=1280,900', 'about:blank']
        self.log = open(Path(self.profile) / 'chromium.log', 'w+')
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self.log, start_new_session=True)
        port_file, t0 = Path(self.profile) / 'DevToolsActivePort', time.time()
        while not (port_file.exists() and len(port_file.read_text().split('\n')) >= 2):
            if self.proc.poll() is not None: self.log.seek(0); raise RuntimeError(f'chromium exited: {self.log.read()[-2000:]}')
            if time.time() - t0 > 30: raise RuntimeError('chromium did not start in 30 s')
            time.sleep(0.05)
        port, path = port_file.read_text().split('\n')[:2]
        self.ws = websocket.create_connection(f'ws://127.0.0.1:{port.strip()}{path.strip()}', timeout=30, suppress_origin=True)
        self.ws.settimeout(0.2)
        self.n, self.events, self.session = 0, [], None
        target = self.send('Target.createTarget', url='about:blank')['targetId']
        self.session = self.send('Target.attachToTarget', targetId=target, flatten=True)['sessionId']
        for d in ('Page', 'Network', 'Runtime', 'Log'): self.send(f'{d}.enable')
        self.send('Emulation.setDeviceMetricsOverride', width=1280, height=900, deviceScaleFactor=1, mobile=False)

    def _recv(self):
        import websocket
        try: msg = self.ws.recv()
        except websocket.WebSocketTimeoutException: return None
        m = json.loads(msg)
        if 'method' in m: self.events.append(m)
        return m

    def send(self, method: str, timeout: float = 30, **params):
        self.n += 1
        msg = {'id': self.n, 'method': method, 'params': params}
        if self.session and not method.startswith('Target.'): msg['sessionId'] = self.session
        self.ws.send(json.dumps(msg))
        t0 = time.time()
        while time.time() - t0 < timeout:
            m = self._recv()
            if m and m.get('id') == self.n:
                if 'error' in m: raise RuntimeError(f'{method}: {m["error"]}')
                return m.get('result', {})
        raise TimeoutError(f'{method}: no answer in {timeout} s')

    def pump(self, seconds: float):
        t0 = time.time()
        while time.time() - t0 < seconds: self._recv()

    def evaluate(self, js: str):
        r = self.send('Runtime.evaluate', expression=js, returnByValue=True, awaitPromise=True)
        if 'exceptionDetails' in r: raise RuntimeError(f'JS error: {r["exceptionDetails"]}')
        return r['result'].get('value')

    def open(self, url: str, timeout: float = 30):
        "Load a page; return its events once it has loaded and the network has been quiet for 0.3 s."
        self.events = []
        self.send('Page.navigate', url=url)
        t0 = time.time()
        while not any(e['method'] == 'Page.loadEventFired' for e in self.events):
            if time.time() - t0 > timeout: raise TimeoutError(f'{url}: no load event in {timeout} s')
            self._recv()
        quiet = time.time()
        while time.time() - t0 < timeout:
            n = len(self.events); self.pump(0.1)
            if self._inflight() == 0 and len(self.events) == n and time.time() - quiet > 0.3: break
            if len(self.events) != n: quiet = time.time()
        return self.events

    def _inflight(self):
        started = {e['params']['requestId'] for e in self.events if e['method'] == 'Network.requestWillBeSent'}
        done = {e['params']['requestId'] for e in self.events if e['method'] in ('Network.loadingFinished', 'Network.loadingFailed')}
        return len(started - done)

    def screenshot(self, path: Path):
        h = self.evaluate('Math.min(document.documentElement.scrollHeight, 4000)') or 900
        data = self.send('Page.captureScreenshot', format='png', captureBeyondViewport=True,
                         clip={'x': 0, 'y': 0, 'width': 1280, 'height': max(900, h), 'scale': 1})['data']
        path.write_bytes(base64.b64decode(data))

    def close(self):
        "Stop the Chromium this started (its own process group: the browser and its helpers) and remove its profile."
        with contextlib.suppress(Exception): self.ws.close()
        with contextlib.suppress(ProcessLookupError): os.killpg(self.proc.pid, 15)
        try: self.proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError): os.killpg(self.proc.pid, 9)
            self.proc.wait(10)
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass


def serve(directory: Path):
    "A static server for the site on 127.0.0.1 (an ephemeral port), in a thread."
    handler = functools.partial(_Quiet, directory=str(directory))
    srv = socketserver.ThreadingTCPServer(('127.0.0.1', 0), handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f'http://127.0.0.1:{srv.server_address[1]}/'


PAGE_JS = r"""(() => {
  const abs = a => a.href;
  const main = document.querySelector('main') || document.body;
  const maths = [...document.querySelectorAll('span.math.inline, span.math.display')];
  return {
    title: document.title,
    subtitle: (document.querySelector('#title-block-header .description') || {}).innerText || null,
    sidebar: [...document.querySelectorAll('#quarto-sidebar a[href]')].map(abs),
    links: [...document.querySelectorAll('a[href]')].map(abs),
    text: main.innerText,
    ids: [...document.querySelectorAll('[id]')].map(e => e.id),
    images: [...main.querySelectorAll('img')].map(i => ({src: i.currentSrc.slice(0, 80), ok: i.complete && i.naturalWidth > 0})),
    svgs: main.querySelectorAll('.cell-output svg').length,
    math: maths.length,
    math_done: maths.filter(m => m.querySelector('.katex')).length,
    math_errors: document.querySelectorAll('.katex-error').length,
    katex: !!window.katex,
  };
})()"""

def page_problems(b: Browser, base: str, page: str, docs: Path, exports: dict, images: dict, ids_cache: dict,
                  subtitles: dict | None = None) -> tuple[list[str], str]:
    url = urljoin(base, page)
    events = b.open(url)
    probs = []
    doc = [e for e in events if e['method'] == 'Network.responseReceived' and e['params'].get('type') == 'Document']
    status = doc[0]['params']['response']['status'] if doc else None
    if status != 200: probs.append(f'status {status}')
    info = b.evaluate(PAGE_JS)
    if info['math']:
        if not info['katex']: probs.append(f'{info["math"]} formula(s) but KaTeX did not load')
        elif info['math_done'] < info['math']: probs.append(f'maths not rendered: {info["math_done"]}/{info["math"]} formulas')
        if info['math_errors']: probs.append(f'{info["math_errors"]} formula(s) KaTeX could not typeset')
    for e in b.events:
        m, p = e['method'], e['params']
        if m == 'Network.requestWillBeSent':
            u = p['request']['url']
            if not (u.startswith(base) or u.startswith(('data:', 'blob:', 'about:'))): probs.append(f'request leaves 127.0.0.1: {u[:120]}')
        elif m == 'Network.loadingFailed' and not p.get('canceled'):
            probs.append(f'failed load: {p.get("errorText")} {next((x["params"]["request"]["url"][:120] for x in b.events if x["method"] == "Network.requestWillBeSent" and x["params"]["requestId"] == p["requestId"]), "")}')
        elif m == 'Network.responseReceived' and p['response']['status'] >= 400:
            probs.append(f'HTTP {p["response"]["status"]}: {p["response"]["url"][:120]}')
        elif m == 'Runtime.consoleAPICalled' and p['type'] in ('error', 'assert'):
            probs.append('console error: ' + ' '.join(str(a.get('value', a.get('description', '')))[:200] for a in p.get('args', [])))
        elif m == 'Runtime.exceptionThrown':
            d = p['exceptionDetails']
            probs.append(f'uncaught exception: {(d.get("exception") or {}).get("description", d.get("text"))}'[:300])
        elif m == 'Log.entryAdded' and p['entry']['level'] == 'error':
            probs.append(f'console error: {p["entry"]["text"][:200]} {p["entry"].get("url", "")[:100]}')
    # links: the sidebar's and every internal one, with anchors
    sidebar_pages = set()
    for kind, links in (('sidebar', info['sidebar']), ('link', info['links'])):
        for u in links:
            if not u.startswith(base):
                if kind == 'sidebar' and not u.startswith(('http://', 'https://', 'mailto:')): probs.append(f'sidebar link {u}')
                continue
            path, _, frag = u[len(base):].partition('#')
            path = unquote(path.split('?')[0]) or 'index.html'
            f = docs / path
            if f.is_dir(): f = f / 'index.html'
            if kind == 'sidebar': sidebar_pages.add(f.relative_to(docs).as_posix() if f.exists() else path)
            if not f.is_file(): probs.append(f'{kind} to a missing page: {path}'); continue
            if frag and f.suffix == '.html':
                if f not in ids_cache: ids_cache[f] = set(re.findall(r'\bid="([^"]+)"', f.read_text(encoding='utf-8')))
                if unquote(frag) not in ids_cache[f]: probs.append(f'{kind} to a missing anchor: {path}#{frag}')
    if page != '404.html' and page not in sidebar_pages: probs.append('the page is not in the sidebar')
    want = (subtitles or {}).get(page)
    plain = lambda t: build_docs._words(re.sub(r'[`*_]', '', t))    # the words, whatever markdown's `code` or *emphasis* became
    if want and plain(info['subtitle'] or '') != plain(want):
        probs.append(f'subtitle shown: {(info["subtitle"] or "")[:80]!r}, the notebook\'s `> ` line: {want[:80]!r}')
    # exported functions and classes, with their show_doc anchors (other exported names: a note)
    notes = []
    for name, anchor in exports.get(page, {}).items():
        on_page = re.search(r'(?<![\w])' + re.escape(name) + r'(?![\w])', info['text'])
        if anchor is None:
            if not on_page: notes.append(name)
        elif not on_page: probs.append(f'exported {name} is not on the page')
        elif anchor and anchor not in info['ids']: probs.append(f'no show_doc anchor #{anchor} for {name}')
    # pictures
    shown = [i for i in info['images'] if i['ok']]
    for i in info['images']:
        if not i['ok']: probs.append(f'picture did not load: {i["src"]}')
    if page in images:
        want = max(1 if page == 'index.html' else 0, images[page])
        if len(shown) + info['svgs'] < want:
            probs.append(f'{len(shown) + info["svgs"]} picture(s) shown, the notebook has {images[page]}' + (' (the home page needs at least one)' if images[page] == 0 else ''))
    n_api = sum(a is not None for a in exports.get(page, {}).values())
    detail = f'{len(info["links"])} links, {info["math"]} formulas, {len(shown) + info["svgs"]} pictures' + (f', {n_api} exported functions/classes' if n_api else '')
    note = f'note: exported but never mentioned on the page: {", ".join(notes)}' if notes else ''
    return sorted(set(probs), key=probs.index), detail, note


def browser_checks(docs: Path, shots: Path | None):
    cfg = build_docs._cfg()
    pages = sorted(p.relative_to(docs).as_posix() for p in docs.rglob('*.html') if 'site_libs' not in p.relative_to(docs).parts)
    exe = find_chromium()
    if not exe:
        for p in pages: record(f'page {p}', 'SKIP', 'no Chromium here (Debian: apt-get install -y chromium)')
        print('docs: the browser checks were SKIPPED: no chromium on PATH (set CHROMIUM=/path/to/chromium, or apt-get install -y chromium)')
        return
    exports = exported_names(cfg)
    images = expected_images(cfg, cfg.config_path / '_proc')
    subtitles = expected_subtitles(cfg)
    for p in exports:
        if p not in pages: record(f'api page {p}', 'FAIL', f'the module exported there has no page (names: {", ".join(exports[p])})')
    srv, base = serve(docs)
    b = None
    try:
        b = Browser(exe)
        ids_cache = {}
        if shots: shots.mkdir(parents=True, exist_ok=True)
        for p in pages:
            t0 = time.time()
            try:
                probs, detail, note = page_problems(b, base, p, docs, exports, images, ids_cache, subtitles)
                if shots: b.screenshot(shots / (p.replace('/', '__')[:-5] + '.png'))
            except Exception as e:
                probs, detail, note = [f'{type(e).__name__}: {e}'], '', ''
            dt = f'{time.time() - t0:.1f}s'
            if probs: record(f'page {p}', 'FAIL', '; '.join(probs[:12]) + (f' (+{len(probs) - 12} more)' if len(probs) > 12 else ''))
            else: record(f'page {p}', 'PASS', f'{detail}, {dt}' + (f'; {note}' if note else ''))
    except Exception as e:
        record('browser', 'FAIL', f'{type(e).__name__}: {e}')
    finally:
        if b: b.close()
        srv.shutdown(); srv.server_close()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--no-build', action='store_true', help='check the _docs/ that is there, without building')
    p.add_argument('--force', action='store_true', help='reprocess every notebook (ignore nbdev\'s _proc/ cache)')
    p.add_argument('--screenshots', type=Path, help='save a PNG of every page into this folder')
    a = p.parse_args(argv)
    t0 = time.time()
    run_check('readme', check_readme)
    run_check('quarto-config', check_quarto_config)
    cfg = build_docs._cfg()
    docs = cfg.doc_path
    built = True
    if not a.no_build:
        def _build():
            r = build_docs.build(force=a.force, quiet=True)
            search = json.loads((docs / 'search.json').read_text(encoding='utf-8'))
            unsearched = set(r['pages']) - {e['href'].partition('#')[0] for e in search} - {'404.html'}
            assert not unsearched, f'search.json has no entry for {sorted(unsearched)}'
            return f'{len(r["pages"])} pages in {r["seconds"]}s (nbdev processing {r["proc_seconds"]}s), maths on {r["maths_pages"]}'
        built = run_check('build', _build)
    if built:
        run_check('every-notebook', lambda: check_every_notebook(cfg, docs))
        run_check('subtitles', lambda: check_subtitles(cfg))
    if not built: record('pages', 'FAIL', 'not checked: the site did not build')
    elif not (docs / 'index.html').exists(): record('pages', 'FAIL', f'not checked: no site in {docs} (build it: python tools/build_docs.py)')
    else: browser_checks(docs, a.screenshots)
    n = {s: sum(1 for _, st, _ in RESULTS if st == s) for s in ('PASS', 'FAIL', 'SKIP')}
    print(f'docs checks took {time.time() - t0:.0f}s')
    print(f'docs: {n["PASS"]} passed, {n["FAIL"]} failed' + (f', {n["SKIP"]} skipped' if n['SKIP'] else ''))
    return 1 if n['FAIL'] else 0


if __name__ == '__main__': sys.exit(main())
