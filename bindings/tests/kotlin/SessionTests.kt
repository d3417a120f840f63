// Scan session tests (added once the core session is wired).
@Suppress("UNUSED_PARAMETER")
fun runSessionTests(h: Harness, repo: String) {}
