#!/usr/bin/env python
"""rekd_nb performance benchmarks (issue 8): cheap distillation, cheap sparse inference, linear batched extraction.

    python bench/run.py            # CPU, small models built from configs, a few minutes
    python bench/run.py --gpu      # paper-scale models on CUDA in bf16 (exits 0 with a message when there is no GPU)

Every ratio times its two (or three) sides INTERLEAVED (A, B, A, B, ...) after a warm-up and reports the median of the
per-round ratios, so that load from other processes affects both sides alike. Prints one table and writes the same records
to `bench/results.json` (name, value, target, passed, unit, detail). Always exits 0.
"""
import argparse, gc, json, math, os, platform, statistics, sys, time, warnings
from contextlib import nullcontext
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the repo's rekd_nb, also when it is not installed
warnings.filterwarnings('ignore', category=FutureWarning)
warnings.filterwarnings('ignore', category=UserWarning)

import torch
from torch.utils.data import Dataset

# ---------------------------------------------------------------------------------------------------------------- config

# CPU: small widths / depths (the ratios are what matter), the real input sizes (196 patches, 256 tokens).
# GPU: the paper's models, random weights from configs.
SIZES = {
    'cpu': dict(
        vit_student=('vit_tiny_patch16_224', dict(depth=2)),     # ViT-Tiny width (192), 2 blocks
        vit_teacher=('vit_small_patch16_224', dict(depth=4)),    # ViT-Small width (384), 4 blocks
        vit_pred=('vit_tiny_patch16_224', dict(depth=4)),        # targets 2-4
        bert_student=dict(hidden_size=256, num_hidden_layers=2, num_attention_heads=4, intermediate_size=1024),
        bert_teacher=dict(hidden_size=512, num_hidden_layers=4, num_attention_heads=8, intermediate_size=2048),
        bert_pred=dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024),  # bert-mini
        bs_train={'vision': 8, 'text': 4}, n_train_batches=4, bs_infer=16, bs_extract=32,
        extract_sizes={'vision': (128, 512), 'text': (64, 256)}, rounds_train=5, rounds_infer=7, rounds_extract=2),
    'gpu': dict(
        vit_student=('vit_tiny_patch16_224', {}), vit_teacher=('vit_base_patch16_224', {}), vit_pred=('vit_tiny_patch16_224', {}),
        bert_student=dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024),   # bert-mini
        bert_teacher=dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072),  # bert-base
        bert_pred=dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024),
        bs_train={'vision': 32, 'text': 32}, n_train_batches=8, bs_infer=32, bs_extract=128,
        extract_sizes={'vision': (2048, 8192), 'text': (2048, 8192)}, rounds_train=5, rounds_infer=15, rounds_extract=3),
}
RATIO = {'vision': .15, 'text': .10}      # the paper's budgets: 15% of 196 patches, 10% of 256 tokens
LAM_SEL = {'vision': 5e-2, 'text': 1e-4}  # the paper's student λ_sel (ViT-Tiny, BERT-mini)
N_CLASSES, SEQ_LEN, IMG = 10, 256, 224
CLS_ID, SEP_ID, PAD_ID, VOCAB = 101, 102, 0, 30522


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--gpu', action='store_true', help='paper-scale models on CUDA in bf16 (exits 0 with a message without CUDA)')
    p.add_argument('--only', default='', help='comma list of sections to run: train,predictor,inference,extract (default: all)')
    p.add_argument('--threads', type=int, default=1, help='CPU threads for torch (default 1: on a shared 2-core machine a second '
                   'OpenMP thread that gets descheduled makes every op wait; 0 = torch default)')
    p.add_argument('--out', default=str(HERE / 'results.json'), help='where to write the records')
    p.add_argument('--wall', action='store_true', help='time with the wall clock on the CPU too (default there: process CPU time)')
    p.add_argument('--profile', action='store_true', help='also print a torch.profiler table for any target that fails')
    p.add_argument('--quick', action='store_true', help=argparse.SUPPRESS)        # 1 round, minimal sizes: a smoke test
    p.add_argument('--gpu-dry-run', action='store_true', help=argparse.SUPPRESS)  # the --gpu sizes on CPU, batch 2, 1 round
    p.add_argument('--direct', action='store_true', help=argparse.SUPPRESS)       # training steps without rekd_nb.learner
    p.add_argument('--child-out', default=None, help=argparse.SUPPRESS)            # internal: the extraction run in a fresh process
    return p.parse_args(argv)

# ---------------------------------------------------------------------------------------------------------------- device

class Env:
    "Device, autocast and synchronisation of one run."
    def __init__(self, gpu:bool, amp:bool=False):
        self.gpu = gpu
        self.device = torch.device('cuda' if gpu else 'cpu')
        self.amp = gpu or amp  # bf16 autocast: always on the GPU; on the CPU only to check the --gpu code path (dry run)
    def autocast(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16) if self.amp else nullcontext()
    def sync(self):
        if self.gpu: torch.cuda.synchronize()
    def name(self):
        if self.gpu: return torch.cuda.get_device_name()
        c = 'process CPU time' if clock is time.process_time else 'wall time'
        return f'{platform.processor() or platform.machine()} CPU ({os.cpu_count()} cores), {torch.get_num_threads()} torch thread(s), {c}'

# ------------------------------------------------------------------------------------------------------------ peak memory

def _proc_status(key):
    "A memory field of /proc/self/status in bytes (None where there is no /proc)."
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith(key): return int(line.split()[1]) * 1024
    except OSError: pass
    return None

def exact_rss():
    """Make the process RSS follow live memory: glibc then serves every allocation over 128 KiB with its own mmap and
    returns it on free (by default it raises that threshold as it goes and keeps freed tensors' pages, so RSS overstates)."""
    try:
        import ctypes
        libc = ctypes.CDLL('libc.so.6')
        M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
        return bool(libc.mallopt(M_MMAP_THRESHOLD, 128 * 1024) and libc.mallopt(M_TRIM_THRESHOLD, 128 * 1024))
    except (OSError, AttributeError): return False

def reset_peak(env):
    "Reset the peak-memory counter: CUDA's allocator stats, or the process's RSS high-water mark (Linux `clear_refs`)."
    gc.collect()
    if env.gpu:
        torch.cuda.synchronize(); torch.cuda.empty_cache(); torch.cuda.reset_peak_memory_stats()
        return torch.cuda.memory_allocated()
    try:
        with open('/proc/self/clear_refs', 'w') as f: f.write('5')
    except OSError: pass
    return _proc_status('VmRSS:') or 0

def read_peak(env):
    "Peak bytes since `reset_peak`: CUDA max allocated, or the RSS high-water mark (VmHWM; ru_maxrss if /proc is missing)."
    if env.gpu: torch.cuda.synchronize(); return torch.cuda.max_memory_allocated()
    hwm = _proc_status('VmHWM:')
    if hwm is None:
        import resource
        hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return hwm

# ---------------------------------------------------------------------------------------------------------------- timing

# The clock of every measurement. On the CPU: this process's CPU time. The 2 cores are shared with other jobs; with one
# torch thread and in-memory data the process never waits for anything but the CPU, so its CPU time is the work done and
# barely moves when another job takes the core away (wall time would count those pauses). On the GPU: wall time after a sync.
clock = time.process_time

def interleaved(fns:dict, env, rounds:int, warmup:int=1):
    """Run every function of `fns` once per round, in order (A, B, A, B, ...), after `warmup` calls each.
    A function returns None (then it is timed here) or its own time in seconds. Returns name -> per-round times."""
    for _ in range(warmup):
        for f in fns.values(): f(); env.sync()
    times = {k: [] for k in fns}
    for _ in range(rounds):
        for k, f in fns.items():
            env.sync(); t0 = clock()
            t = f()
            env.sync()
            times[k].append(clock() - t0 if t is None else t)
    return times

def ratio_of(times, a, b):
    "Median over rounds of t_a / t_b (the two sides of a round ran back to back), and both medians."
    return (statistics.median(x / y for x, y in zip(times[a], times[b])), statistics.median(times[a]), statistics.median(times[b]))

def record(name, value, target=None, passed=None, unit='ratio', **detail):
    return dict(name=name, value=None if value is None else float(value), target=target, passed=passed, unit=unit, detail=detail)

def le(value, bound): return f'<= {bound}', bool(value <= bound)

def ms(t): return round(1e3 * t, 2)

# ------------------------------------------------------------------------------------------------------------------- data

class SynthImages(Dataset):
    "Random uint8 images from a fixed pool (item i is image i mod pool): loading costs a copy, memory does not grow with n."
    n_inp = 2
    def __init__(self, n, img=IMG, patch=16, seed=0, pool=64):
        self.n = n
        g = torch.Generator().manual_seed(seed)
        self.pool = torch.randint(0, 256, (min(pool, n), 3, img, img), generator=g, dtype=torch.uint8)
        self.valid = torch.ones((img // patch) ** 2, dtype=torch.bool)
    def __len__(self): return self.n
    def __getitem__(self, i): return self.pool[i % len(self.pool)], self.valid, torch.tensor(int(i) % N_CLASSES)

class SynthTokens(Dataset):
    "Random full-length token sequences [CLS] w1 .. w254 [SEP] from a fixed pool; every word piece is selectable."
    n_inp = 2
    def __init__(self, n, seq_len=SEQ_LEN, seed=0, pool=256):
        self.n = n
        g = torch.Generator().manual_seed(seed)
        self.pool = torch.randint(1000, VOCAB, (min(pool, n), seq_len), generator=g)
        self.pool[:, 0], self.pool[:, -1] = CLS_ID, SEP_ID
        self.valid = torch.ones(seq_len, dtype=torch.bool); self.valid[0] = self.valid[-1] = False
    def __len__(self): return self.n
    def __getitem__(self, i): return self.pool[i % len(self.pool)], self.valid, torch.tensor(int(i) % N_CLASSES)

def synth(family, n, seed=0): return SynthImages(n, seed=seed) if family == 'vision' else SynthTokens(n, seed=seed)

def batch_tfm(family):
    "What the library's image loaders do per batch on the device (uint8 -> normalised float); nothing for text."
    if family != 'vision': return None
    from rekd_nb.data_vision import ImageBatchTfm
    return ImageBatchTfm(IMG)

def materialise(ds):
    "The items of `ds` as a `rekd_nb.data_core.RationaleDataset` (in memory, what the library's loaders hold)."
    from rekd_nb.data_core import RationaleDataset
    items = [ds[i] for i in range(len(ds))]
    return RationaleDataset(torch.stack([t[0] for t in items]), torch.stack([t[1] for t in items]), torch.stack([t[2] for t in items]))

def loader(family, ds, bs, env, shuffle=False):
    "A fastai `DataLoader` as `rekd_nb.data_core` builds them: batches moved to the device, then the batch transform."
    from fastai.data.load import DataLoader
    tfm = batch_tfm(family)
    kw = dict(num_workers=min(8, os.cpu_count() or 1), pin_memory=True) if env.gpu else dict(num_workers=0)
    return DataLoader(ds, bs=bs, shuffle=shuffle, device=env.device, **({} if tfm is None else dict(after_batch=tfm)), **kw)

def batch_of(family, bs, env, seed=0):
    "One batch (x, valid, y) on the device."
    return next(iter(loader(family, synth(family, bs, seed), bs, env)))

# ----------------------------------------------------------------------------------------------------------------- models

def backbone_src(family, spec):
    "What the rekd_nb builders take: (timm name, kwargs) or (BertConfig, kwargs)."
    if family == 'vision': return spec[0], dict(spec[1])
    from transformers import BertConfig
    cfg = BertConfig(vocab_size=VOCAB, max_position_embeddings=512, pad_token_id=PAD_ID, **spec)
    return cfg, dict(pad_token_id=PAD_ID, special_ids=[CLS_ID, SEP_ID], attn_implementation='sdpa')

def re_model(family, spec, env, mask_mode='zero', eval_topk=True):
    "A `RationaleModel` with random weights; `eval_topk`: deterministic exact top-k at the paper's ratio in eval."
    from rekd_nb.models import text_re_model, vit_re_model
    from rekd_nb.selector import MaskSampler
    src, kw = backbone_src(family, spec)
    sampler = MaskSampler(eval_mode='topk', ratio=RATIO[family]) if eval_topk else None
    build = vit_re_model if family == 'vision' else text_re_model
    return build(src, N_CLASSES, mask_mode=mask_mode, sampler=sampler, **kw).to(env.device)

def classifier(family, spec, env):
    from rekd_nb.models import text_classifier, vit_classifier
    src, kw = backbone_src(family, spec)
    return (vit_classifier if family == 'vision' else text_classifier)(src, N_CLASSES, **kw).to(env.device)

def n_params(m): return sum(p.numel() for p in m.parameters())

def describe(family, spec):
    if family == 'vision': return f"{spec[0]}{'(' + ','.join(f'{k}={v}' for k, v in spec[1].items()) + ')' if spec[1] else ''}"
    return f"bert(h={spec['hidden_size']},L={spec['num_hidden_layers']},heads={spec['num_attention_heads']})"

# ------------------------------------------------------------------------------------------------ 2. predictor drop / zero

def bench_predictor(family, S, env, rounds):
    "Predictor forward (`RationaleModel.predict`) on an exact-ratio mask: `drop` mode ÷ `zero` mode."
    from rekd_nb.selector import topk_mask
    torch.manual_seed(0)
    m = re_model(family, S[f'{"vit" if family == "vision" else "bert"}_pred'], env).eval()
    x, valid, _ = batch_of(family, S['bs_infer'], env)
    mask = topk_mask(torch.rand(valid.shape, device=env.device), RATIO[family], valid)
    def fwd(mode):
        with torch.inference_mode(), env.autocast(): m.predict(x, mask, valid, mode=mode)
    times = interleaved({'drop': partial(fwd, 'drop'), 'zero': partial(fwd, 'zero'), 'attention': partial(fwd, 'attention')},
                        env, rounds, warmup=2)
    r, td, tz = ratio_of(times, 'drop', 'zero')
    ra = ratio_of(times, 'attention', 'zero')[0]  # an attention mask hides the dropped features but computes them all
    kept = int(mask[0].sum())
    tgt, ok = le(r, .35)
    n = x.shape[0]
    name = f'predictor.{family}.drop@{RATIO[family]:.2f}/zero'
    return [record(name, r, tgt, ok, features=valid.shape[1], kept=kept, batch=n,
                   drop_ms=ms(td), zero_ms=ms(tz), drop_ex_s=round(n / td, 1), zero_ex_s=round(n / tz, 1), attention_vs_zero=round(ra, 3),
                   model=describe(family, S['vit_pred' if family == 'vision' else 'bert_pred']))], \
           dict(model=m, x=x, valid=valid, mask=mask)

# ------------------------------------------------------------------------------------------------ 3. RE inference / CLS

def bench_inference(family, S, env, rounds, pred_ratio=None):
    "Whole RE model (selector + exact top-k mask + predictor in `drop` mode) ÷ a classifier with the same backbone."
    torch.manual_seed(0)
    spec = S['vit_pred' if family == 'vision' else 'bert_pred']
    re_m, clf = re_model(family, spec, env, mask_mode='drop').eval(), classifier(family, spec, env).eval()
    x, valid, _ = batch_of(family, S['bs_infer'], env)
    def run(m):
        with torch.inference_mode(), env.autocast(): m(x, valid)
    times = interleaved({'re': partial(run, re_m), 'cls': partial(run, clf)}, env, rounds, warmup=2)
    r, tr, tc = ratio_of(times, 're', 'cls')
    n = x.shape[0]
    detail = dict(batch=n, re_ms=ms(tr), cls_ms=ms(tc), re_ex_s=round(n / tr, 1), cls_ex_s=round(n / tc, 1), model=describe(family, spec))
    if pred_ratio is not None: detail['ideal'] = round(1 + pred_ratio, 3)  # one selector pass (= the CLS pass) + a drop-mode predictor
    return [record(f'inference.{family}.re_drop/cls', r, 'report (ideal 1 + drop/zero)', None, **detail)], dict(re=re_m, cls=clf)

# ------------------------------------------------------------------------------------------------ 4. batched extraction

def _get_rationales_fn():
    "The library's batched extraction (`rekd_nb.inference.get_rationales`) if it exists, else a plain batched inference loop."
    try:
        from rekd_nb.inference import get_rationales
        return (lambda model, dl: get_rationales(model, dl)), 'rekd_nb.inference.get_rationales'
    except ImportError: pass
    def loop(model, dl):
        model.eval()
        masks, preds = [], []
        for b in dl:
            out = model(b[0], b[1])
            masks.append(out.mask.bool().cpu()); preds.append(out.logits.float().argmax(-1).cpu())
        return torch.cat(masks), torch.cat(preds)
    return loop, 'batched inference loop (no rekd_nb.inference.get_rationales)'

def bench_extract(family, S, env, rounds):
    "Examples/s and peak memory of batched rationale extraction over datasets of two sizes: time ∝ size, memory constant."
    fn, how = _get_rationales_fn()
    torch.manual_seed(0)
    spec = S['vit_pred' if family == 'vision' else 'bert_pred']
    m = re_model(family, spec, env, mask_mode='drop').eval()
    n1, n2 = S['extract_sizes'][family]
    bs = S['bs_extract']
    dls = {n: loader(family, synth(family, n, seed=1), bs, env) for n in (n1, n2)}
    def call(n):
        with torch.inference_mode(), env.autocast(): return fn(m, dls[n])
    call(n1)  # warm-up (allocator, lazy init)
    times, peaks = {n1: [], n2: []}, {n1: [], n2: []}
    for _ in range(rounds):
        for n in (n1, n2):
            base = reset_peak(env)
            env.sync(); t0 = clock()
            res = call(n)
            env.sync(); times[n].append(clock() - t0)
            peak = read_peak(env)
            peaks[n].append((peak, peak - base))
            if len(res[0]) != n: raise RuntimeError(f'extraction returned {len(res[0])} rationales for {n} examples')
            del res
    t1, t2 = statistics.median(times[n1]), statistics.median(times[n2])
    p1, p2 = (max(p for p, _ in peaks[n]) for n in (n1, n2))
    d1, d2 = (statistics.median(d for _, d in peaks[n]) for n in (n1, n2))
    scale = statistics.median(b / a for a, b in zip(times[n1], times[n2])) / (n2 / n1)
    mib = lambda b: round(b / 2 ** 20, 1)
    kind = ('CUDA max_memory_allocated' if env.gpu else 'process peak RSS (VmHWM, reset per run)') + \
           '; peak_mib is absolute, above_mib the growth over the memory in use when the run started'
    common = dict(model=describe(family, spec), batch=bs, how=how, memory=kind)
    recs = [record(f'extract.{family}.throughput@{n}', n / t, 'report', None, unit='examples/s', seconds=round(t, 3),
                   peak_mib=mib(p), above_mib=mib(d), **common) for n, t, p, d in ((n1, t1, p1, d1), (n2, t2, p2, d2))]
    lo, hi = .8, 1.25
    recs.append(record(f'extract.{family}.time_scaling', scale, f'in [{lo}, {hi}] (1 = linear)', bool(lo <= scale <= hi),
                       detail_sizes=f'{n1} -> {n2}', time_ratio=round(t2 / t1, 3), size_ratio=n2 / n1, **common))
    pr = p2 / p1
    recs.append(record(f'extract.{family}.peak_memory_ratio', pr, '<= 1.2 (1 = constant)', bool(pr <= 1.2),
                       peak_mib_small=mib(p1), peak_mib_large=mib(p2), above_mib_small=mib(d1), above_mib_large=mib(d2), **common))
    return recs

# ------------------------------------------------------------------------------------------------ 1. training steps

def _learner_api():
    "The learner builders if `rekd_nb.learner` exists (and has them), else None."
    try: import rekd_nb.learner as L
    except ImportError: return None
    if all(hasattr(L, k) for k in ('re_learner', 'rekd_learner')): return L
    return None

class _Direct:
    "The three training steps written with `rekd_nb.models` + `rekd_nb.losses` (used when `rekd_nb.learner` is missing)."
    how = 'direct: rekd_nb.losses + AdamW (no rekd_nb.learner)'
    def __init__(self, family, student, teacher, ds, bs, env):
        from rekd_nb.losses import teacher_outputs
        self.family, self.s, self.t, self.env, self.bs = family, student, teacher, env, bs
        self.opt = torch.optim.AdamW(student.parameters(), lr=1e-5)
        self.dl = loader(family, ds, bs, env)
        teacher.eval().requires_grad_(False)
        cache = {}
        with torch.no_grad(), env.autocast():  # the teacher cache: computed once, kept on the CPU like a dataset column
            for x, v, y in self.dl:
                t = teacher_outputs(teacher, x, v)
                for k in ('logits', 'mask', 'sel_logits'): cache.setdefault(k, []).append(getattr(t, k).float().cpu())
        self.cache = {k: torch.cat(v) for k, v in cache.items()}
        self.tau = 1.

    def _step(self, kind):
        from rekd_nb.losses import re_loss, rekd_loss, teacher_outputs, TeacherOutput
        env, s, p, lam = self.env, self.s, RATIO[self.family], LAM_SEL[self.family]
        s.train()
        i = 0
        for x, v, y in self.dl:  # one epoch over the fixed batches
            idx = torch.arange(i, i + len(y)); i += len(y)
            with env.autocast():
                out = s(x, v)
                if kind == 're': loss = re_loss(out, y, v, p, lam)
                else:
                    if kind == 'cached':
                        t = TeacherOutput(*(self.cache[k][idx].to(env.device, non_blocking=True) for k in ('logits', 'mask', 'sel_logits')))
                    else:  # reference: teacher selector + predictor every step, the predictor on the student's mask
                        t = teacher_outputs(self.t, x, v, student_mask=out.mask, mask_source='student')
                    loss = rekd_loss(out, t, y, v, p, lam, self.tau, noisy=kind == 'uncached').total
            loss.backward()
            self.opt.step(); self.opt.zero_grad(set_to_none=True)
        env.sync()
        return i

    def steppers(self):
        def timed(kind):
            t0 = clock(); n = self._step(kind); return (clock() - t0) / math.ceil(n / self.bs)
        return {'re': partial(timed, 're'), 'cached': partial(timed, 'cached'), 'uncached': partial(timed, 'uncached')}

class _Learners:
    "The three training steps as users run them: fits of `rekd_nb.learner`'s Learners over the same fixed batches."
    how = 'rekd_nb.learner: Learner.fit(1) over fixed batches; per-batch wall time between training after_batch events'
    def __init__(self, L, family, student, teacher, ds, bs, env):
        from rekd_nb.data_core import make_dls, RationaleDataset
        self.env = env
        # fastai validates after every epoch: a 1-item valid set keeps that short (the clock below only sees training batches)
        one = RationaleDataset(ds.x[:1], ds.valid[:1], ds.y[:1])
        dls = make_dls(ds, one, bs=bs, shuffle=False, device=env.device, after_batch=batch_tfm(family), n_classes=N_CLASSES)
        p, lam = RATIO[family], LAM_SEL[family]
        self.learns = {
            're': L.re_learner(dls, student, ratio=p, lam_sel=lam),
            'cached': L.rekd_learner(dls, student, teacher, ratio=p, lam_sel=lam, cache_teacher=True, teacher_mask='own'),
            'uncached': L.rekd_learner(dls, student, teacher, ratio=p, lam_sel=lam, cache_teacher=False, teacher_mask='student',
                                       rationale_kd='gumbel'),
        }
        if env.amp:  # fastai's bf16 MixedPrecision on the GPU (it only knows CUDA); the same autocast on the CPU in a dry run
            for l in self.learns.values(): l.to_bf16() if env.gpu else l.add_cb(_CPUAutocast())

    def steppers(self):
        def fit(learn):
            clock = _BatchClock()
            with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-5, cbs=clock)
            return clock.per_batch()
        return {k: partial(fit, l) for k, l in self.learns.items()}

def _CPUAutocast():
    "fastai's MixedPrecision for bf16 on the CPU (dry runs of the --gpu path only): autocast from before_batch to after_loss."
    from fastai.callback.core import Callback
    class CPUAutocast(Callback):
        order = 10
        def before_batch(self): self.ac = torch.autocast('cpu', dtype=torch.bfloat16); self.ac.__enter__()
        def after_pred(self):
            from fastai.torch_core import to_float
            self.learn.pred = to_float(self.pred)
        def after_loss(self): self.ac.__exit__(None, None, None)
    return CPUAutocast()

def _BatchClock():
    "A fastai callback: wall time between consecutive training `after_batch` events (each includes loading its batch)."
    from fastai.callback.core import Callback
    class BatchClock(Callback):
        order = 200  # after every other callback of the batch
        def before_train(self): self.t, self.dts = None, []
        def after_batch(self):
            if not self.training: return
            if torch.cuda.is_available() and torch.cuda.is_initialized(): torch.cuda.synchronize()
            now = clock()
            if self.t is not None: self.dts.append(now - self.t)
            self.t = now
        def per_batch(self): return statistics.median(self.dts)
    return BatchClock()

def bench_train(family, S, env, rounds, direct=False):
    "REKD step with cached teacher outputs ÷ RE step; the uncached reference-style REKD step ÷ RE step."
    torch.manual_seed(0)
    key = 'vit' if family == 'vision' else 'bert'
    student = re_model(family, S[f'{key}_student'], env, eval_topk=False)
    teacher = re_model(family, S[f'{key}_teacher'], env, eval_topk=False)
    bs = S['bs_train'][family]
    ds = materialise(synth(family, bs * S['n_train_batches'], seed=2))
    L = _learner_api()
    runner = _Learners(L, family, student, teacher, ds, bs, env) if L and not direct else _Direct(family, student, teacher, ds, bs, env)
    times = interleaved(runner.steppers(), env, rounds, warmup=1)
    rc, tc, tr = ratio_of(times, 'cached', 're')
    ru, tu, _ = ratio_of(times, 'uncached', 're')
    common = dict(how=runner.how, batch=bs, student=describe(family, S[f'{key}_student']),
                  teacher=describe(family, S[f'{key}_teacher']), student_params=n_params(student), teacher_params=n_params(teacher),
                  re_ms=ms(tr), re_ex_s=round(bs / tr, 1))
    tgt, ok = le(rc, 1.15)
    return [record(f'train.{family}.rekd_cached/re', rc, tgt, ok, rekd_cached_ms=ms(tc), rekd_cached_ex_s=round(bs / tc, 1), **common),
            record(f'train.{family}.rekd_uncached_ref/re', ru, 'report', None, rekd_uncached_ms=ms(tu),
                   rekd_uncached_ex_s=round(bs / tu, 1), **common)]

def run_extract(S, env):
    recs = []
    for family in ('vision', 'text'):
        rs = bench_extract(family, S, env, S['rounds_extract'])
        recs += rs; print(f'  extract.{family}: ' + ', '.join(f"{r['value']:.3g}" for r in rs), flush=True)
    return recs

def extract_in_child(args):
    "On the CPU, peak RSS is only meaningful in a process that did nothing else: run the extraction in a fresh one."
    import subprocess, tempfile
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / 'extract.json'
        cmd = [sys.executable, str(Path(__file__).resolve()), '--only', 'extract', '--threads', str(args.threads), '--child-out', str(out)]
        cmd += ['--quick'] if args.quick else []
        cmd += ['--wall'] if args.wall else []
        cmd += ['--gpu-dry-run'] if args.gpu_dry_run else []
        subprocess.run(cmd, check=True)
        return json.loads(out.read_text())

# ---------------------------------------------------------------------------------------------------------------- report

def fmt_value(r):
    v = r['value']
    if v is None: return '-'
    return f'{v:,.1f}' if r['unit'] == 'examples/s' else f'{v:.3f}'

def short_detail(r):
    d = r['detail']
    keys = [k for k in d if k.endswith('_ms') or k.endswith('_ex_s') or k in ('ideal', 'kept', 'attention_vs_zero', 'peak_mib', 'peak_mib_small',
                                                                             'peak_mib_large', 'above_mib', 'above_mib_small', 'above_mib_large', 'seconds', 'time_ratio')]
    return ', '.join(f'{k}={d[k]}' for k in keys)

def print_table(recs, header):
    rows = [(r['name'], fmt_value(r), str(r['target'] or '-'), {True: 'PASS', False: 'FAIL', None: '-'}[r['passed']], short_detail(r))
            for r in recs]
    cols = ('name', 'value', 'target', 'pass', 'detail')
    w = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(cols[:4])]
    print(header)
    line = '  '.join(c.ljust(w[i]) for i, c in enumerate(cols[:4])) + '  ' + cols[4]
    print(line); print('-' * min(len(line) + 60, 160))
    for row in rows: print('  '.join(v.ljust(w[i]) for i, v in enumerate(row[:4])) + '  ' + row[4])

def profile_failures(recs, ctx, env):
    "torch.profiler tables of the failing sides, so that the report can say where the time goes."
    from torch.profiler import profile, ProfilerActivity
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if env.gpu else [])
    for r in recs:
        if r['passed'] is not False or not r['name'].startswith('predictor.'): continue
        c = ctx.get(r['name'])
        if c is None: continue
        with torch.inference_mode(), profile(activities=acts) as prof:
            c['model'].predict(c['x'], c['mask'], c['valid'], mode='drop')
        print(f"\nprofile of the drop side of {r['name']}:")
        print(prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=15))

# ------------------------------------------------------------------------------------------------------------------ main

def main(argv=None):
    args = parse_args(argv)
    gpu = args.gpu and not args.gpu_dry_run
    if gpu and not torch.cuda.is_available():
        print('bench/run.py --gpu: no CUDA device is available here, so the paper-scale GPU benchmark was not run. '
              'Run `python bench/run.py` for the CPU benchmark.')
        return 0
    if not gpu and args.threads > 0: torch.set_num_threads(args.threads)
    global clock  # CPU time only makes sense for a single thread (several threads add up, spin-waits included)
    clock = time.perf_counter if (gpu or args.wall or torch.get_num_threads() != 1) else time.process_time
    env = Env(gpu, amp=args.gpu_dry_run)
    S = dict(SIZES['gpu' if (gpu or args.gpu_dry_run) else 'cpu'])
    if gpu:
        torch.backends.cuda.matmul.allow_tf32 = True; torch.backends.cudnn.allow_tf32 = True
    if args.gpu_dry_run or args.quick:  # a correctness smoke test of the code path: minimal batches and rounds
        S.update(bs_train={'vision': 2, 'text': 2}, n_train_batches=3, bs_infer=2, bs_extract=2,
                 extract_sizes={'vision': (2, 4), 'text': (2, 4)},
                 rounds_train=1, rounds_infer=1, rounds_extract=1)
    sections = [s for s in args.only.split(',') if s] or ['predictor', 'inference', 'extract', 'train']
    if args.child_out:  # the extraction benchmark alone, in this fresh process, then hand the records back
        exact_rss()
        Path(args.child_out).write_text(json.dumps(run_extract(S, env)))
        return 0
    t_start = time.perf_counter()
    recs, ctx = [], {}
    print(f'rekd_nb benchmarks on {env.name()} ({"bf16 autocast" if env.amp else "fp32"}), torch {torch.__version__}', flush=True)
    for family in ('vision', 'text'):
        pred_ratio = None
        if 'predictor' in sections:
            rs, c = bench_predictor(family, S, env, S['rounds_infer'])
            recs += rs; ctx[rs[0]['name']] = c; pred_ratio = rs[0]['value']
            print(f"  {rs[0]['name']}: {rs[0]['value']:.3f}", flush=True)
        if 'inference' in sections:
            rs, _ = bench_inference(family, S, env, S['rounds_infer'], pred_ratio)
            recs += rs; print(f"  {rs[0]['name']}: {rs[0]['value']:.3f}", flush=True)
    for family in ('vision', 'text'):
        if 'train' in sections:
            rs = bench_train(family, S, env, S['rounds_train'], direct=args.direct)
            recs += rs; print(f'  train.{family}: ' + ', '.join(f"{r['value']:.3f}" for r in rs), flush=True)
    if 'extract' in sections:
        if gpu or args.child_out: recs += run_extract(S, env)
        else: recs += extract_in_child(args)
    elapsed = time.perf_counter() - t_start
    print()
    print_table(recs, f'rekd_nb benchmarks — {env.name()} — {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC — {elapsed:.0f} s')
    if args.profile: profile_failures(recs, ctx, env)
    out = dict(device=env.name(), gpu=gpu, dry_run=bool(args.gpu_dry_run or args.quick), torch=torch.__version__,
               date=datetime.now(timezone.utc).isoformat(timespec='seconds'), seconds=round(elapsed, 1))
    for r in recs: r['detail'] = {**r['detail'], 'run': out}
    Path(args.out).write_text(json.dumps(recs, indent=1) + '\n')
    print(f'\nwrote {len(recs)} records to {args.out}')
    return 0

if __name__ == '__main__':
    try: sys.exit(main())  # 0 whether or not targets are met; a crash (a bug) still exits non-zero
    except KeyboardInterrupt: sys.exit(130)
