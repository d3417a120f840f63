package app.mandrel.shell

/** One HTTP request for the shell to send; the core never opens a socket. */
class UploadRequest(
    /** Absolute https URL. */
    val url: String,
    /** HTTP method. */
    val method: String,
    /** Headers in the order to send them. */
    val headers: List<Pair<String, String>>,
    /** The sealed envelope JSON, UTF-8. */
    val body: ByteArray,
) {
    /** The value of header `name` (case-insensitive), or null. */
    fun header(name: String): String? = headers.firstOrNull { it.first.equals(name, ignoreCase = true) }?.second
}

/** What came back from sending an [UploadRequest]. */
sealed class UploadResponse {
    /** The server answered with `status`; `retryAfterSeconds` from a Retry-After header. */
    data class Http(val status: Int, val retryAfterSeconds: Long? = null) : UploadResponse()

    /** No answer (no network, timeout, TLS failure); `message` for the log. */
    data class NetworkError(val message: String) : UploadResponse()
}

/**
 * Builds the upload of a sealed envelope. The scan id doubles as the idempotency key, so a
 * retried upload that already reached the server is not stored twice.
 */
class UploadRequestBuilder(endpoint: String, private val userAgent: String) {
    private val base: String = endpoint.trimEnd('/')

    init {
        val local = base.startsWith("http://localhost") || base.startsWith("http://127.0.0.1")
        require(base.startsWith("https://") || local) { "upload endpoint must be https (plain http only to localhost), got '$endpoint'" }
        require(!base.contains('?') && !base.contains('#')) { "upload endpoint must not carry a query or fragment: '$endpoint'" }
    }

    /** The request for attempt `attempt` (1-based) of uploading `envelopeJson` for `scanId`. */
    fun build(scanId: String, envelopeJson: String, attempt: Int): UploadRequest {
        require(SCAN_ID.matches(scanId)) { "scan id must be 32 lowercase hex characters, got '$scanId'" }
        require(attempt >= 1) { "attempt is 1-based, got $attempt" }
        require(envelopeJson.isNotBlank()) { "envelope is empty" }
        return UploadRequest(
            url = "$base/v1/scans/$scanId",
            method = "PUT",
            headers = listOf(
                "Content-Type" to "application/json",
                "Idempotency-Key" to scanId,
                "User-Agent" to userAgent,
                "X-Mandrel-Attempt" to attempt.toString(),
            ),
            body = envelopeJson.toByteArray(Charsets.UTF_8),
        )
    }

    private companion object {
        val SCAN_ID = Regex("[0-9a-f]{32}")
    }
}

/** What to do after a response. */
sealed class RetryDecision {
    /** The server has the envelope. */
    data object Delivered : RetryDecision()

    /** Send again after `delayMs`. */
    data class RetryAfter(val delayMs: Long) : RetryDecision()

    /** Stop: `message` for the shopper, `keepEnvelope` when a later manual retry may still work. */
    data class GiveUp(val message: String, val keepEnvelope: Boolean) : RetryDecision()
}

/**
 * Exponential backoff for uploads: retries network errors, 408, 429 and 5xx up to
 * `maxAttempts`, honours Retry-After (capped at `maxDelayMs`), never retries other 4xx.
 * 409 means the idempotency key is already stored: delivered.
 */
class RetryPolicy(
    val maxAttempts: Int = 5,
    val baseDelayMs: Long = 1_000,
    val maxDelayMs: Long = 60_000,
) {
    init {
        require(maxAttempts in 1..20) { "maxAttempts must be 1 to 20, got $maxAttempts" }
        require(baseDelayMs in 1..maxDelayMs) { "baseDelayMs must be 1 to maxDelayMs ($maxDelayMs), got $baseDelayMs" }
    }

    /** The decision after attempt `attempt` (1-based) got `response`. */
    fun decide(attempt: Int, response: UploadResponse): RetryDecision {
        val retryable = when (response) {
            is UploadResponse.NetworkError -> true
            is UploadResponse.Http -> when (response.status) {
                in 200..299, 409 -> return RetryDecision.Delivered
                408, 429 -> true
                in 500..599 -> true
                else -> return RetryDecision.GiveUp(
                    "The store refused the result (HTTP ${response.status}). Please contact the store.", keepEnvelope = false)
            }
        }
        check(retryable)
        if (attempt >= maxAttempts) {
            return RetryDecision.GiveUp(
                "Could not reach the store after $attempt tries. Your sealed result is kept on this phone; try again later.",
                keepEnvelope = true)
        }
        val backoff = (baseDelayMs shl (attempt - 1).coerceAtMost(20)).coerceAtMost(maxDelayMs)
        val asked = (response as? UploadResponse.Http)?.retryAfterSeconds?.let { (it * 1000).coerceIn(0, maxDelayMs) }
        return RetryDecision.RetryAfter(maxOf(backoff, asked ?: 0))
    }
}
