# tests/run.sh: one line per failed Criterion test from its TAP report, with the reason
# ("not ok - suite::name  (0.01s)" and the first message line, or "not ok - suite::name
# unexpected signal after file:line")
function flush() { if (name != "") print "[" v "] " name ": " (msg != "" ? msg : "failed"); name = ""; msg = "" }
/^(not )?ok - / { flush() }
/^not ok - / {
	rest = $0; sub(/^not ok - /, "", rest)
	name = rest; sub(/ .*$/, "", name)
	msg = rest; sub(/^[^ ]+ */, "", msg); sub(/^\([0-9.]+s\) *$/, "", msg)
	next
}
name != "" && msg == "" && /^      [^ ]/ { msg = $0; sub(/^ +/, "", msg) }
END { flush() }
