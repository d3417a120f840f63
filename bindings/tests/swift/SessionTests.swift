// Scan session tests (added once the core session is wired).
func runSessionTests(_ h: inout Harness, repo: String) {}
