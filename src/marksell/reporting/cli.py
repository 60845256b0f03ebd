"""The ``marksell`` command: list, run and batch-run notebooks, rebuild the index, make sample data.

Exit codes: 0 every run ok (or ok with a warning); 1 some run failed; 2 usage or input error (nothing was run);
130 interrupted. Errors print one short message; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import signal
import sys
import textwrap
import traceback
from pathlib import Path

from marksell import __version__

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
REPORTS_HELP = "reports folder (default: $MARKSELL_REPORTS_DIR, else ./reports)"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="marksell",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Exit codes: 0 all ok, 1 some runs failed, 2 usage or input error.",
    )
    p.add_argument("--version", action="version", version=f"marksell {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = p.add_subparsers(dest="command", required=True)

    sub.add_parser("list", help="show the notebooks with their parameters, types, defaults and help")

    r = sub.add_parser("run", help="execute one notebook into a dated report folder")
    r.add_argument("notebook", help="a name from `marksell list` or a path to an .ipynb")
    r.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        default=[],
        help="set a parameter (lists and dicts in YAML form, e.g. '[a, b]')",
    )
    r.add_argument(
        "-f",
        "--parameters-file",
        action="append",
        default=[],
        metavar="YAML",
        help="YAML file of parameters (later files and -p override earlier ones)",
    )
    r.add_argument("--out", help="exact output folder (must not exist or be empty)")
    r.add_argument("--label", help="suffix of the report folder name (letters, digits, . _ -)")
    r.add_argument("--reports-dir", help=REPORTS_HELP)
    r.add_argument("--cell-timeout", type=int, default=None, help="seconds per cell, at least 1 (default 600)")
    r.add_argument(
        "--allow-large-work",
        action="store_true",
        help="accept parameter values above the bounds on work (draws, clusters, horizons...)",
    )
    r.add_argument("--pdf", action="store_true", help="also print report.pdf (needs Chromium)")

    b = sub.add_parser("report", help="run a batch (default: every notebook on the sample data)")
    b.add_argument("--config", help="YAML batch file with a list of runs")
    b.add_argument("--reports-dir", help=REPORTS_HELP)
    b.add_argument("--jobs", "-j", type=int, default=1, help="parallel processes on this machine")
    b.add_argument("--scheduler", help="address of a Dask distributed scheduler, e.g. tcp://host:8786")
    b.add_argument(
        "--allow-large-work", action="store_true", help="accept parameter values above the bounds on work in every run"
    )
    b.add_argument("--pdf", action="store_true", help="also print report.pdf for every run (needs Chromium)")

    d = sub.add_parser("pdf", help="print finished runs' report.html to report.pdf (needs Chromium)")
    d.add_argument("folders", nargs="+", metavar="RUN_FOLDER", help="a run folder, e.g. reports/2026-01-31/kpi_scorecard")

    i = sub.add_parser("index", help="rebuild reports/index.html from the run folders")
    i.add_argument("--reports-dir", help=REPORTS_HELP)

    n = sub.add_parser("init", help="write a starter folder: the notebooks, a batch file, a README")
    n.add_argument("folder", help="new (or empty) folder to create")

    s = sub.add_parser("sample-data", help="regenerate the sample company from a seed")
    s.add_argument("--seed", type=int, default=None, help="random seed (default 7)")
    s.add_argument("--out", default=None, help="folder to write (default: data/sample)")
    s.add_argument("--force", action="store_true", help="replace files of the same names in --out that differ from the sample's")
    return p


def cmd_list(args) -> int:
    from marksell.reporting import parameters as notebook_params
    from marksell.reporting import runner

    for name, path in runner.catalogue().items():
        print(f"{name}  ({path.name})")
        for prm in notebook_params.read_parameters(path):
            if prm.name in notebook_params.RESERVED:
                continue
            print(f"    {prm.name}: {prm.type} = {prm.default!r}")
            if prm.help:
                print(textwrap.indent(textwrap.fill(prm.help, 90), " " * 8))
    return EXIT_OK


def cmd_run(args) -> int:
    from marksell.reporting import runner
    from marksell.reporting.kernel import KernelPool
    from marksell.reporting.parameters import load_yaml_parameters

    params: dict = {}
    for f in args.parameters_file:
        params.update(load_yaml_parameters(f))
    text = set()
    for name, value in args.parameter:
        params[name] = value
        text.add(name)
    timeout = runner.DEFAULT_CELL_TIMEOUT if args.cell_timeout is None else args.cell_timeout
    spec = runner.RunSpec(
        notebook=args.notebook,
        parameters=params,
        text_parameters=text,
        label=args.label,
        out=args.out,
        reports_dir=args.reports_dir,
        cell_timeout=timeout,
        allow_large_work=args.allow_large_work,
    )
    for note in runner.prepare(spec).notes:  # everything checked before the kernel starts
        print(f"marksell: note: {note}", file=sys.stderr, flush=True)
    _clean_stale(spec)
    print(f"marksell: running {args.notebook} ...", flush=True)
    kernels = KernelPool(fork=False)  # one warm kernel, started now: it boots while papermill and the rest are imported
    kernels.more = False
    try:
        kernels.start()
        res = runner.run(spec, progress=sys.stderr.isatty(), kernels=kernels)
    finally:
        kernels.close()
    if not args.out:
        _rebuild_index(args.reports_dir)
    print(
        f"marksell: {res.name} {res.status} in {res.duration_s:.1f} s -> {res.folder}"
        + (f"\n  reason: {res.error}" if res.error else "")
    )
    if args.debug and res.folder and (res.folder / "error.txt").is_file():
        print((res.folder / "error.txt").read_text(encoding="utf-8"), file=sys.stderr)  # traceback + kernel log
    if args.pdf:
        _print_pdfs([res.folder])
    return EXIT_OK if res.status in ("ok", "warning") and res.kept_at is None else EXIT_FAILED


def _clean_stale(spec) -> None:
    """Remove what killed runs left behind (staging and kernel socket folders nobody holds)."""
    from marksell.paths import reports_dir
    from marksell.reporting import staging

    root = Path(spec.out).resolve().parent if spec.out else Path(spec.reports_dir or reports_dir())
    removed = staging.clean_stale(root / ".tmp")
    if removed:
        print(f"marksell: removed {len(removed)} folder(s) left by killed runs", file=sys.stderr)


def _rebuild_index(reports_dir) -> None:
    """Rebuild the index after a run; a problem there is reported, it does not undo the run."""
    from marksell.reporting import index

    try:
        _, skipped = index.build_index(reports_dir)
    except OSError as exc:
        print(f"marksell: warning: the index was not rebuilt ({exc})", file=sys.stderr)
        return
    if skipped:
        print(f"marksell: index: {len(skipped)} entr(y/ies) skipped (`marksell index` lists them)", file=sys.stderr)


def cmd_report(args) -> int:
    if args.jobs < 1:
        raise _usage("--jobs must be at least 1")
    from marksell.reporting.forkserver import early_fork_server, killed_on_error

    # started first: the server imports the stack while marksell is imported and the batch checked
    server = None if args.scheduler else early_fork_server(shared=args.jobs > 1)
    with killed_on_error(server):
        from marksell.reporting import batch

        specs = batch.specs_from_config(args.config, args.reports_dir)
        if args.allow_large_work:
            for spec in specs:
                spec.allow_large_work = True
        if specs:
            _clean_stale(specs[0])
    results = batch.run_batch(specs, jobs=args.jobs, scheduler=args.scheduler, server=server)
    if args.pdf:
        _print_pdfs([r.folder for r in results if r.folder is not None])
    return EXIT_OK if all(r.status in ("ok", "warning") and r.kept_at is None for r in results) else EXIT_FAILED


def _print_pdfs(folders) -> None:
    """Print each run's report.pdf; raises PdfError (exit 2) when no PDF could be made."""
    from marksell.reporting.pdf import render_pdf

    for folder in folders:
        print(f"marksell: wrote {render_pdf(folder)}")


def cmd_pdf(args) -> int:
    _print_pdfs(args.folders)
    return EXIT_OK


def cmd_index(args) -> int:
    from marksell.reporting import index

    path, skipped = index.build_index(args.reports_dir)
    for s in skipped:
        print(f"marksell: skipped {s}", file=sys.stderr)
    print(f"marksell: index written to {path}")
    return EXIT_OK


def cmd_init(args) -> int:
    from marksell.reporting.starter import write_starter

    files = write_starter(args.folder)
    print(
        f"marksell: wrote {len(files)} files into {args.folder}; next: cd {args.folder} && marksell report "
        "--config batch.yaml (see README.md there)"
    )
    return EXIT_OK


def cmd_sample_data(args) -> int:
    from marksell.paths import PACKAGE_DIR, sample_dir
    from marksell.sample.company import DEFAULT_SEED, write_company

    default = sample_dir()
    installed = PACKAGE_DIR in default.parents  # an installed wheel's own copy: never rewrite site-packages
    if installed:
        default = Path("data") / "sample"
    out = Path(args.out) if args.out else default
    files = write_company(
        out, seed=DEFAULT_SEED if args.seed is None else args.seed, replace=args.force or not (args.out or installed)
    )
    print(f"marksell: wrote {len(files)} files to {out}")
    return EXIT_OK


def _usage(msg: str):
    from marksell.errors import ParameterError

    return ParameterError(msg)


def _on_sigterm(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    from marksell.errors import MarksellError

    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    handler = {
        "list": cmd_list,
        "run": cmd_run,
        "report": cmd_report,
        "index": cmd_index,
        "pdf": cmd_pdf,
        "init": cmd_init,
        "sample-data": cmd_sample_data,
    }[args.command]
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("marksell: interrupted; unfinished runs were discarded, finished reports are kept", file=sys.stderr)
        try:
            from marksell.reporting import index

            index.build_index(getattr(args, "reports_dir", None))
        except Exception:
            pass
        return EXIT_INTERRUPTED
    except (MarksellError, ValueError, OSError) as exc:
        if args.debug:
            traceback.print_exc()
        print(f"marksell: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
