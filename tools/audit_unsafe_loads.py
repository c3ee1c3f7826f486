#!/usr/bin/env python3
"""Find calls in Python source that could run code from a data file: unpickling, unsafe `torch.load`, eval / exec, remote code.

Usage: python tools/audit_unsafe_loads.py PATH [PATH ...]   (a .py file or a folder, searched recursively)
Prints one 'file:line: reason' per finding and exits 1 if there is any, 0 otherwise. Standard library only: it parses the
code (it does not match text), so comments, strings and methods such as `model.eval()` are not findings.
"""
import ast, sys
from pathlib import Path

UNSAFE_CALLS = {('pickle', 'load'), ('pickle', 'loads'), ('pickle', 'Unpickler'), ('dill', 'load'), ('dill', 'loads'),
                ('cloudpickle', 'load'), ('cloudpickle', 'loads'), ('joblib', 'load'), ('marshal', 'load'), ('marshal', 'loads'),
                ('shelve', 'open'), ('yaml', 'unsafe_load'), ('jsonpickle', 'decode')}

def keyword_constant(call, name):
    "The constant value of keyword `name` in `call` (None if absent or not a constant)."
    k = next((k for k in call.keywords if k.arg == name), None)
    return k.value.value if k is not None and isinstance(k.value, ast.Constant) else None

def unsafe_reason(call):
    "Why `call` (an `ast.Call`) could run code from a file, or None."
    f = call.func
    mod = f.value.id if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) else None
    name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
    if (mod, name) in UNSAFE_CALLS: return f'{mod}.{name} unpickles (runs code from the file)'
    if (mod, name) == ('torch', 'load') and keyword_constant(call, 'weights_only') is not True: return 'torch.load without weights_only=True'
    if name == 'load' and mod in ('np', 'numpy') and keyword_constant(call, 'allow_pickle') is True: return 'numpy.load with allow_pickle=True'
    if (mod, name) == ('yaml', 'load') and 'Safe' not in ast.unparse(call): return 'yaml.load without a SafeLoader'
    if name == 'load_learner': return "fastai's load_learner unpickles"
    if isinstance(f, ast.Name) and name in ('eval', 'exec'): return f'{name}() runs code'
    if keyword_constant(call, 'trust_remote_code') is True: return 'trust_remote_code=True runs code from the model repository'
    return None

def audit_unsafe_loads(path):
    "'file:line: reason' for every call in `path` (a .py file or a folder, searched recursively) that could run code from a file."
    path = Path(path)
    if not path.exists(): raise FileNotFoundError(f"{path} does not exist")
    found = []
    for f in ([path] if path.is_file() else sorted(path.rglob('*.py'))):
        calls = [n for n in ast.walk(ast.parse(f.read_text(encoding='utf-8'), filename=str(f))) if isinstance(n, ast.Call)]
        for node in sorted(calls, key=lambda n: (n.lineno, n.col_offset)):  # in the file's order (ast.walk goes breadth first)
            why = unsafe_reason(node)
            if why: found.append(f'{f.name}:{node.lineno}: {why}')
    return found

def main(argv=None):
    "Audit each path given; print the findings; 1 if there are any, 2 on a usage error, else 0."
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ('-h', '--help'):
        print(__doc__.strip(), file=sys.stderr)
        return 0 if args else 2
    try: found = [line for p in args for line in audit_unsafe_loads(p)]
    except (FileNotFoundError, SyntaxError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    for line in found: print(line)
    return 1 if found else 0

if __name__ == '__main__': sys.exit(main())
