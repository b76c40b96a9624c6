"""The evidence pack's ``index.html``, as a Jinja2 template rendered with autoescaping.

Kept in a module rather than a template file so it ships with the code whatever the
package-data settings say. Everything interpolated is escaped (autoescape), and links
are only made clickable for http(s) addresses.
"""

# ruff: noqa: E501  (HTML table rows: one row per line reads better than wrapped markup)

from __future__ import annotations

INDEX_TEMPLATE = """\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Evidence pack: {{ organisation }} since {{ since }}</title>
<style>
body { font-family: sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
.overdue { color: #b2182b; font-weight: bold; }
img { max-width: 100%; }
</style>
</head>
<body>
<h1>Evidence pack: {{ organisation }}</h1>
<p>Records from {{ since }} to {{ created_on }}{% if team %}, team {{ team }}{% endif %}.
Built by drillbook on {{ created_at }}. Every file is listed with its SHA-256 in
<a href="manifest.json">manifest.json</a>; check the pack with
<code>drillbook evidence verify</code>.</p>

<h2>Exercises: when each ran, who took part</h2>
<table>
<tr><th>Exercise</th><th>Date</th><th>Team</th><th>Scenario</th><th>Status</th><th>Participants</th><th>Report</th></tr>
{% for e in exercises %}
<tr><td>{{ e.label }}</td><td>{{ e.run_date }}</td><td>{{ e.team or "" }}</td><td>{{ e.title }}</td><td>{{ e.status }}</td><td>{{ e.participants | join(", ") }}</td>
<td>{% for f in e.files %}<a href="{{ f }}">{{ f.rsplit(".", 1)[1] }}</a> {% endfor %}</td></tr>
{% else %}
<tr><td colspan="7">No exercise in this period.</td></tr>
{% endfor %}
</table>

<h2>Drills and their scorecards</h2>
<table>
<tr><th>Drill run</th><th>Started</th><th>Team</th><th>Plan</th><th>Status</th><th>Operator</th><th>Scorecard</th></tr>
{% for d in drills %}
<tr><td>{{ d.id }}</td><td>{{ d.started_at }}</td><td>{{ d.team or "" }}</td><td>{{ d.plan }}</td><td>{{ d.status }}</td><td>{{ d.operator }}</td><td><a href="{{ d.file }}">{{ d.file }}</a></td></tr>
{% else %}
<tr><td colspan="7">No drill in this period.</td></tr>
{% endfor %}
</table>

<h2>Findings: what was found, when it was fixed and verified</h2>
<p>Full history of each in <a href="findings/findings.json">findings/findings.json</a>.</p>
<table>
<tr><th>Id</th><th>Severity</th><th>Gap</th><th>Owner</th><th>Opened</th><th>Status</th><th>Closed</th><th>Verified</th><th>Tracker</th></tr>
{% for f in findings %}
<tr><td>{{ f.id }}</td><td>{{ f.severity }}</td><td>{{ f.description }}</td><td>{{ f.owner or "" }}</td><td>{{ f.opened }}</td>
<td{% if f.overdue %} class="overdue"{% endif %}>{{ f.status }}{% if f.overdue %} (overdue){% endif %}</td><td>{{ f.closed or "" }}</td><td>{{ f.verified or "" }}</td>
<td>{% for link in f.links %}{% if link.startswith("https://") or link.startswith("http://") %}<a href="{{ link }}">{{ link }}</a>{% else %}{{ link }}{% endif %} {% endfor %}</td></tr>
{% else %}
<tr><td colspan="9">No finding in this period.</td></tr>
{% endfor %}
</table>

<h2>Program metrics and signals</h2>
<p>In <a href="metrics.json">metrics.json</a>.</p>
<ul>
{% for s in signals %}
<li><strong>{{ s.kind }}</strong>: {{ s.message }}</li>
{% else %}
<li>No failure-mode signal.</li>
{% endfor %}
</ul>

<h2>Charts</h2>
<p>Each chart is an SVG file in the pack, listed in the manifest; its numbers are said
beneath it.</p>
{% for chart in charts %}
<figure><img src="{{ chart.file }}" alt="{{ chart.title }}: {{ chart.caption }}"><figcaption><strong>{{ chart.title }}.</strong> {{ chart.caption }} (<a href="{{ chart.file }}">{{ chart.file }}</a>)</figcaption></figure>
{% endfor %}

<h2>Schedule kept</h2>
<p>In <a href="schedule.json">schedule.json</a> and <a href="schedule.ics">schedule.ics</a>.</p>
<table>
<tr><th>Due</th><th>Team</th><th>What</th><th>Status</th><th>Record</th></tr>
{% for i in schedule %}
<tr><td>{{ i.due }}</td><td>{{ i.team or "all" }}</td><td>{{ i.title }}</td><td{% if i.status == "overdue" %} class="overdue"{% endif %}>{{ i.status }}</td><td>{{ i.record or "" }}</td></tr>
{% endfor %}
</table>

<h2>Incidents and audit log</h2>
<p>Real incidents in <a href="incidents.json">incidents.json</a>; every dated change to
exercises and findings in <a href="audit-log.jsonl">audit-log.jsonl</a>.</p>
</body>
</html>
"""
