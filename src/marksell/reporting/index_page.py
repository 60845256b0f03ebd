"""The reports index page: runs grouped by date, filtered and sorted in place, headline figures, compare view.

The page is one self-contained file with a small inline script (no external resources). Without scripts it
still lists every run. Headline figures come from each run's ``summary.json``: its ``headline`` object when the
notebook writes one (``{label: value}``), else a few known fields per analysis.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from marksell.reporting import numbers

_MAX_PARAM_TEXT = 80


def _get(summary: dict, path: str):
    node = summary
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _number(value, places: int = 0) -> str | None:
    if not isinstance(value, (int, float)) or not numbers.is_number(value):
        return None
    return numbers.fixed(value, places)


def _first(value):
    if isinstance(value, dict) and value:
        return next(iter(value.values()))
    if isinstance(value, list) and value:
        return value[0]
    return value


def _audit(s: dict) -> dict:
    inputs = s.get("inputs") if isinstance(s.get("inputs"), dict) else {}
    problems = sum(int(v.get("n_problems") or 0) for v in inputs.values() if isinstance(v, dict))
    return {"inputs": _number(len(inputs)) if inputs else None, "problems": _number(problems) if inputs else None}


def _kpi(s: dict) -> dict:
    rows = s.get("scorecard") if isinstance(s.get("scorecard"), list) else []
    met = sum(1 for r in rows if isinstance(r, dict) and r.get("status") == "on target")
    rated = sum(1 for r in rows if isinstance(r, dict) and r.get("status") in ("on target", "watch", "off target"))
    return {"period": s.get("period"), "on target": f"{met} of {rated}" if rated else None}


def _experiments(s: dict) -> dict:
    decisions = s.get("decisions") if isinstance(s.get("decisions"), dict) else {}
    primary = s.get("primary") if isinstance(s.get("primary"), dict) else {}
    units = s.get("units") if isinstance(s.get("units"), dict) else {}
    first = next(iter(decisions), None)  # the first variant against control
    lift = _get(primary, f"{first}.rel_lift") if first is not None else None
    return {
        "decision": _get(decisions, f"{first}.decision")
        if len(decisions) == 1
        else (
            f"{sum(isinstance(d, dict) and d.get('decision') == 'ship' for d in decisions.values())} of {len(decisions)} to ship"
            if decisions
            else None
        ),
        "lift": numbers.percent(100 * lift, 1) if len(decisions) == 1 and numbers.is_number(lift) else None,
        "units": _number(sum(v for v in units.values() if numbers.is_number(v))) if units else None,
    }


def _mmm(s: dict) -> dict:
    channels = s.get("channels") if isinstance(s.get("channels"), dict) else {}
    roas = {c: v.get("roas") for c, v in channels.items() if isinstance(v, dict) and numbers.is_number(v.get("roas"))}
    best = max(roas, key=roas.get) if roas else None
    return {
        "channels": _number(len(channels)) if channels else None,
        "best ROAS": f"{best} {numbers.fixed(roas[best], 2)}" if best else None,
        "holdout R²": _number(_get(s, "accuracy.holdout.r2"), 2),
    }


#: Headline figures per analysis, when summary.json has no ``headline`` object.
KNOWN = {
    "data_audit": _audit,
    "customer_segmentation": lambda s: {
        "customers": _number(s.get("customers")),
        "segments": _number(_get(s, "clusters.k")),
        "CLV total": _number(_get(s, "clv.total_clv")),
    },
    "opportunity_prioritisation": lambda s: {
        "top choice": _first(s.get("top_choice")),
        "options": _number(s.get("n_opportunities")),
    },
    "pricing_elasticity": lambda s: {
        "products": _number(s.get("n_products")),
        "median elasticity": _number(_get(s, f"methods.{_get(s, 'settings.recommend_with') or 'ols'}.median_elasticity"), 2),
    },
    "sales_forecasting": lambda s: {
        "series": _number(s.get("n_series")),
        "MASE chosen": _number(s.get("mase_chosen"), 2),
        "MASE seasonal naive": _number(s.get("mase_snaive"), 2),
    },
    "kpi_scorecard": _kpi,
    "campaign_experiments": _experiments,
    "marketing_mix": _mmm,
}


def headline(notebook: str, folder: Path) -> dict[str, str]:
    """Up to four headline figures of one run, as text; empty when the run wrote no readable summary."""
    path = folder / "summary.json"
    try:
        if not path.is_file() or path.stat().st_size > 5_000_000:
            return {}
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(summary, dict):
        return {}
    given = summary.get("headline")
    if isinstance(given, dict):
        figures = {str(k): v for k, v in given.items()}
    else:
        try:
            figures = KNOWN.get(notebook, lambda s: {})(summary)
        except (TypeError, ValueError, AttributeError):
            figures = {}
    return {k: _text(v) for k, v in list(figures.items())[:4] if v not in (None, "")}


def _text(value) -> str:
    return numbers.plain(value)


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _params_text(run: dict) -> str:
    params = run.get("overrides", run.get("parameters")) or {}
    if not isinstance(params, dict) or not params:
        return "defaults"
    return ", ".join(f"{k}={v}" for k, v in sorted(params.items(), key=lambda kv: str(kv[0])))


def _row(run: dict) -> str:
    folder, status = run["_folder"], str(run.get("status", "?"))
    figures = run.get("_headline") or {}
    params = _params_text(run)
    short = params if len(params) <= _MAX_PARAM_TEXT else params[: _MAX_PARAM_TEXT - 1] + "…"
    heads = "".join(f"<span class='fig'><span class='k'>{_e(k)}</span> {_e(v)}</span>" for k, v in figures.items())
    err = f"<div class='err'>{_e(str(run['error']).splitlines()[0])}</div>" if run.get("error") else ""
    data = {
        "notebook": run.get("notebook"),
        "label": run.get("label") or "",
        "status": status,
        "folder": folder,
        "day": run["_day"],
        "started": str(run.get("started", "")),
        "headline": figures,
        "parameters": {str(k): str(v) for k, v in (run.get("parameters") or {}).items()}
        if isinstance(run.get("parameters"), dict)
        else {},
    }
    duration = float(run.get("duration_s") or 0)
    return (
        f"<tr class='run st-{_e(status)}' data-run='{_e(json.dumps(data, sort_keys=True))}'>"
        f"<td><input type='checkbox' class='pick' aria-label='select for comparison'></td>"
        f"<td class='links'><a href='{_e(folder)}/report.html'>report</a> · "
        f"<a href='{_e(folder)}/'>files</a></td>"
        f"<td>{_e(run.get('notebook'))}</td><td>{_e(run.get('label') or '')}</td>"
        f"<td class='status'>{_e(status)}{err}</td><td class='figs'>{heads}</td>"
        f"<td data-sort='{duration:.3f}'>{duration:.1f} s</td>"
        f"<td class='params' title='{_e(params)}'><code>{_e(short)}</code></td></tr>"
    )


def page(runs: list[dict], skipped: list[str]) -> str:
    """The whole index page for ``runs`` (newest day first), as HTML text."""
    days: dict[str, list[dict]] = {}
    for run in runs:
        days.setdefault(run["_day"], []).append(run)
    notebooks = sorted({str(r.get("notebook")) for r in runs})
    n_failed = sum(1 for r in runs if r.get("status") == "failed")
    head = (
        "<tr><th></th><th>open</th><th class='sort'>notebook</th><th class='sort'>label</th>"
        "<th class='sort'>status</th><th>headline figures</th><th class='sort'>duration</th>"
        "<th>parameters</th></tr>"
    )
    sections = "".join(
        f"<section class='day'><h2>{_e(day)} <small>{len(rs)} run(s)</small></h2>"
        f"<div class='scroll'><table class='runs'><thead>{head}</thead><tbody>"
        + "".join(_row(r) for r in sorted(rs, key=lambda r: (str(r.get("notebook")), str(r.get("started", "")))))
        + "</tbody></table></div></section>"
        for day, rs in days.items()
    )
    options = "".join(f"<option>{_e(n)}</option>" for n in notebooks)
    skipped_html = "".join(f"<li>{_e(s)}</li>" for s in skipped)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>marksell reports</title><style>{_CSS}</style></head><body>"
        f"<h1>marksell reports</h1><p>{len(runs)} run(s) on {len(days)} day(s); {n_failed} failed.</p>"
        "<form class='filters' onsubmit='return false'>"
        f"<label>notebook <select id='f-notebook'><option value=''>all</option>{options}</select></label>"
        "<label>status <select id='f-status'><option value=''>all</option><option>ok</option>"
        "<option>warning</option><option>failed</option></select></label>"
        "<label>label <input id='f-label' type='search' placeholder='contains…'></label>"
        f"<label><input id='f-failed' type='checkbox'> show failed runs ({n_failed})</label>"
        "<button id='compare' type='button' disabled>Compare two selected runs</button></form>"
        "<div id='comparison' hidden></div>"
        f"{sections or '<p>No runs yet: <code>marksell report</code> makes some.</p>'}"
        + (f"<h2>Skipped entries</h2><ul>{skipped_html}</ul>" if skipped else "")
        + f"<script>{_SCRIPT}</script></body></html>\n"
    )


_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em;max-width:1400px}
h2 small{font-weight:normal;color:#57606a;font-size:.7em}
.scroll{overflow-x:auto;max-width:100%}
table.runs{border-collapse:collapse;width:100%}
.runs td,.runs th{border-bottom:1px solid #d8dee4;padding:.3em .6em;text-align:left;vertical-align:top}
.runs th.sort{cursor:pointer;text-decoration:underline dotted}
.links{white-space:nowrap}
.params code{display:inline-block;max-width:22em;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;
 vertical-align:bottom}
.fig{display:inline-block;margin-right:.9em;white-space:nowrap}.fig .k{color:#57606a;font-size:.85em}
.st-ok .status{color:#1a7f37}.st-failed .status{color:#cf222e;font-weight:bold}
.st-warning .status{color:#9a6700;font-weight:bold}
.err{font-size:.85em;font-weight:normal;max-width:28em}
.filters{display:flex;flex-wrap:wrap;gap:.6em 1.4em;align-items:center;margin:1em 0}
#comparison table{border-collapse:collapse;margin:1em 0}
#comparison td,#comparison th{border:1px solid #d0d7de;padding:.3em .6em;text-align:left}
#comparison .diff{background:#fff8c5}
"""

_SCRIPT = """
(function(){
  var rows=[].slice.call(document.querySelectorAll('tr.run'));
  var f={nb:document.getElementById('f-notebook'),st:document.getElementById('f-status'),
         lb:document.getElementById('f-label'),failed:document.getElementById('f-failed')};
  function data(r){return JSON.parse(r.getAttribute('data-run'));}
  function apply(){
    rows.forEach(function(r){var d=data(r);var show=true;
      if(f.nb.value&&d.notebook!==f.nb.value)show=false;
      if(f.st.value&&d.status!==f.st.value)show=false;
      if(f.lb.value&&d.label.toLowerCase().indexOf(f.lb.value.toLowerCase())<0)show=false;
      if(d.status==='failed'&&!f.failed.checked&&f.st.value!=='failed')show=false;
      r.hidden=!show;});
    document.querySelectorAll('section.day').forEach(function(s){
      s.hidden=!s.querySelector('tr.run:not([hidden])');});
  }
  [f.nb,f.st,f.lb,f.failed].forEach(function(el){el.addEventListener('input',apply);el.addEventListener('change',apply);});
  document.querySelectorAll('th.sort').forEach(function(th){th.addEventListener('click',function(){
    var body=th.closest('table').tBodies[0];var i=th.cellIndex;var asc=th.getAttribute('data-asc')!=='1';
    th.setAttribute('data-asc',asc?'1':'0');
    [].slice.call(body.rows).sort(function(a,b){
      var x=a.cells[i].getAttribute('data-sort')||a.cells[i].textContent;
      var y=b.cells[i].getAttribute('data-sort')||b.cells[i].textContent;
      var nx=parseFloat(x),ny=parseFloat(y);
      var c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y);return asc?c:-c;})
      .forEach(function(r){body.appendChild(r);});});});
  var btn=document.getElementById('compare'),out=document.getElementById('comparison');
  function picked(){return rows.filter(function(r){return r.querySelector('.pick').checked;});}
  rows.forEach(function(r){r.querySelector('.pick').addEventListener('change',function(){
    btn.disabled=picked().length!==2;});});
  function esc(s){var d=document.createElement('div');d.textContent=String(s);return d.innerHTML;}
  btn.addEventListener('click',function(){
    var p=picked().map(data);if(p.length!==2)return;var a=p[0],b=p[1];
    var html='<h2>Comparison</h2>';
    if(a.notebook!==b.notebook){html+='<p>These runs are of different notebooks; only their parameters are compared.</p>';}
    html+='<table><tr><th></th><th>'+esc(a.day+' '+a.label)+'</th><th>'+esc(b.day+' '+b.label)+'</th></tr>';
    var keys={};Object.keys(a.headline).concat(Object.keys(b.headline)).forEach(function(k){keys[k]=1;});
    Object.keys(keys).forEach(function(k){var x=a.headline[k]||'—',y=b.headline[k]||'—';
      html+='<tr class="'+(x!==y?'diff':'')+'"><th>'+esc(k)+'</th><td>'+esc(x)+'</td><td>'+esc(y)+'</td></tr>';});
    var pk={};Object.keys(a.parameters).concat(Object.keys(b.parameters)).forEach(function(k){pk[k]=1;});
    var differ=Object.keys(pk).filter(function(k){return a.parameters[k]!==b.parameters[k];});
    html+='<tr><th colspan="3">parameters that differ ('+differ.length+')</th></tr>';
    differ.forEach(function(k){html+='<tr class="diff"><th><code>'+esc(k)+'</code></th><td><code>'+
      esc(a.parameters[k]===undefined?'—':a.parameters[k])+'</code></td><td><code>'+
      esc(b.parameters[k]===undefined?'—':b.parameters[k])+'</code></td></tr>';});
    out.innerHTML=html+'</table>';out.hidden=false;out.scrollIntoView();});
  apply();
})();
"""
