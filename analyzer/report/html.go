package report

import (
	"html/template"
	"io"
)

// HTML writes a self-contained page: inline styles, no scripts, no fonts
// or images fetched, so it opens from an evidence folder or an e-mail.
func (r *Report) HTML(w io.Writer) error {
	data := struct {
		R      *Report
		Tables []Table
		Gen    string
		Caps   string

		Incomplete []string
	}{r, r.AllTables(), TS(r.Generated), captureList(r), r.Incomplete()}
	return htmlPage.Execute(w, data)
}

var htmlPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"code": func(t Table, i int) bool { return t.Code[i] },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>flowaudit report</title>
{{template "style"}}
</head>
<body>
<h1>flowaudit report</h1>
<p class="meta">{{.R.Tool}} {{.R.Version}}, generated {{.Gen}}. Captures: {{.Caps}}.</p>
{{if .Incomplete}}<div class="incomplete" role="alert"><strong>Incomplete report: not every frame of the captures was analysed.</strong>
<ul>{{range .Incomplete}}<li>{{.}}</li>{{end}}</ul></div>
{{end}}<nav>{{range .Tables}}<a href="#{{.ID}}">{{.Title}}</a> {{end}}</nav>
{{template "tables" .Tables}}
</body>
</html>
{{define "style"}}<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em;color:#1d1d1f;background:#fff}
h1{font-size:1.6em;margin:0 0 .2em}
h2{font-size:1.15em;margin:1.8em 0 .4em;padding-left:.5em;border-left:4px solid #999}
h2.undocumented{border-color:#c62828}h2.blocked{border-color:#ef8f00}h2.missing{border-color:#8e24aa}
h2.optional-missing{border-color:#ce93d8}h2.documented{border-color:#2e7d32}h2.waived{border-color:#00838f}
p.meta,p.intro{color:#555;margin:.2em 0 .6em}
table{border-collapse:collapse;width:100%;margin:.3em 0 1em;font-size:13px}
th,td{border:1px solid #d0d0d0;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3;position:sticky;top:0}
tr:nth-child(even) td{background:#fafafa}
code{font:12px/1.3 ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
nav a{margin-right:1em}
div.incomplete{border:2px solid #c62828;background:#fdecea;color:#7f1d1d;padding:.6em 1em;margin:.8em 0}
div.incomplete ul{margin:.3em 0 0;padding-left:1.2em}
p.note{color:#7f1d1d;margin:.2em 0 .6em}
@media print{th{position:static}body{margin:0}}
</style>{{end}}{{define "tables"}}{{range $t := .}}
<h2 id="{{$t.ID}}" class="{{$t.ID}}">{{$t.Title}}</h2>
{{if $t.Intro}}<p class="intro">{{$t.Intro}}</p>{{end}}
{{- if $t.Note}}<p class="note"><strong>Note:</strong> {{$t.Note}}</p>{{end}}
{{if $t.Rows}}<table>
<thead><tr>{{range $t.Header}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range $t.Rows}}<tr>{{range $i, $c := .}}<td>{{if code $t $i}}<code>{{$c}}</code>{{else}}{{$c}}{{end}}</td>{{end}}</tr>
{{end}}</tbody>
</table>{{else}}<p>None.</p>{{end}}
{{end}}{{end}}`))
