// Consent record, upload request builder, retry policy and encrypted records at rest.

import app.mandrel.*
import app.mandrel.shell.*

/** A data key in memory that records every copy it hands out, to check they are wiped. */
class MemoryKeyStore : DataKeyStore {
    private var key: ByteArray? = null
    val handedOut = ArrayList<ByteArray>()
    override fun dataKey(): ByteArray {
        val k = key ?: ByteArray(32).also { java.security.SecureRandom().nextBytes(it); key = it }
        return k.copyOf().also { handedOut += it }
    }
    override fun destroy() { key?.fill(0); key = null }
}

const val SCAN_ID = "0123456789abcdef0123456789abcdef"

fun runUploadTests(h: Harness) {
    h.test("consent record: validated, quoted in JSON, converted for sealing") {
        val c = ConsentRecord.grant("ring sizing for \"order\" 12\n", ConsentScope.MEASUREMENT, "2026-01", "Shop", nowRfc3339Utc())
        val json = Json.parse(c.toJson()).obj()
        expect(json["purpose"] == "ring sizing for \"order\" 12\n" && json["scope"] == "measurement" && json["recipient"] == "Shop") { c.toJson() }
        expect(c.toBinding() == Consent(c.purpose, ConsentScope.MEASUREMENT, "2026-01", c.grantedAt)) { "binding ${c.toBinding()}" }
        expect(ConsentRecord.scopeName(ConsentScope.MEASUREMENT_AND_MESH) == "measurement+mesh") { "scope name" }
        expectThrows<IllegalArgumentException> { ConsentRecord(" ", ConsentScope.MEASUREMENT, "1", "2026-01-02T03:04:05Z", "Shop") }
        val e = expectThrows<IllegalArgumentException> { ConsentRecord("p", ConsentScope.MEASUREMENT, "1", "yesterday", "Shop") }
        expect(e.message!!.contains("yesterday")) { e.message!! }
    }

    h.test("upload request: PUT to the scan's URL, idempotency key, body, attempt") {
        val b = UploadRequestBuilder("https://shop.example/api/", "mandrel-demo/1.0")
        val r = b.build(SCAN_ID, "{\"format\":\"mandrel-sealed\"}", 3)
        expect(r.url == "https://shop.example/api/v1/scans/$SCAN_ID" && r.method == "PUT") { "${r.method} ${r.url}" }
        expect(r.header("idempotency-key") == SCAN_ID && r.header("Content-Type") == "application/json") { "${r.headers}" }
        expect(r.header("X-Mandrel-Attempt") == "3" && r.header("User-Agent") == "mandrel-demo/1.0") { "${r.headers}" }
        expect(String(r.body, Charsets.UTF_8) == "{\"format\":\"mandrel-sealed\"}") { "body" }
    }

    h.test("upload request: plain http, queries, bad scan ids and attempts are refused") {
        expectThrows<IllegalArgumentException> { UploadRequestBuilder("http://shop.example/api", "ua") }
        expectThrows<IllegalArgumentException> { UploadRequestBuilder("https://shop.example/api?x=1", "ua") }
        UploadRequestBuilder("http://127.0.0.1:8080", "ua") // a local test server
        val b = UploadRequestBuilder("https://shop.example", "ua")
        expectThrows<IllegalArgumentException> { b.build("../../etc", "{}", 1) }
        expectThrows<IllegalArgumentException> { b.build(SCAN_ID, "{}", 0) }
        expectThrows<IllegalArgumentException> { b.build(SCAN_ID, " ", 1) }
    }

    h.test("retry policy: delivered, backoff doubling to a cap, Retry-After, give up") {
        val p = RetryPolicy(maxAttempts = 6, baseDelayMs = 1000, maxDelayMs = 10_000)
        expect(p.decide(1, UploadResponse.Http(201)) == RetryDecision.Delivered) { "201" }
        expect(p.decide(2, UploadResponse.Http(409)) == RetryDecision.Delivered) { "409 = already stored" }
        val delays = (1..5).map { (p.decide(it, UploadResponse.Http(503)) as RetryDecision.RetryAfter).delayMs }
        expect(delays == listOf(1000L, 2000L, 4000L, 8000L, 10_000L)) { "delays $delays" }
        expect(p.decide(1, UploadResponse.NetworkError("timeout")) == RetryDecision.RetryAfter(1000)) { "network" }
        expect(p.decide(1, UploadResponse.Http(429, retryAfterSeconds = 7)) == RetryDecision.RetryAfter(7000)) { "Retry-After" }
        expect(p.decide(1, UploadResponse.Http(429, retryAfterSeconds = 3600)) == RetryDecision.RetryAfter(10_000)) { "Retry-After cap" }
        val last = p.decide(6, UploadResponse.Http(500))
        expect(last is RetryDecision.GiveUp && last.keepEnvelope) { "after the last attempt: $last" }
        for (status in listOf(400, 401, 403, 404, 413, 422)) {
            val d = p.decide(1, UploadResponse.Http(status))
            expect(d is RetryDecision.GiveUp && !d.keepEnvelope && d.message.contains("$status")) { "$status: $d" }
        }
        expectThrows<IllegalArgumentException> { RetryPolicy(maxAttempts = 0) }
    }

    h.test("records at rest: encrypted, bound to the scan, forgotten whole; data keys wiped after use") {
        val keys = MemoryKeyStore()
        val storage = MemoryRecordStorage()
        val rec = ScanRecords(keys, storage)
        rec.put(RecordKind.SEALED_ENVELOPE, SCAN_ID, "{\"secret\":1}".toByteArray())
        rec.put(RecordKind.CONSENT, SCAN_ID, "{}".toByteArray())
        expect(storage.names().size == 2) { "${storage.names()}" }
        val raw = String(storage.read(storage.names().first { it.startsWith("sealed") })!!, Charsets.ISO_8859_1)
        expect(!raw.contains("secret")) { "stored in the clear" }
        expect(String(rec.get(RecordKind.SEALED_ENVELOPE, SCAN_ID)!!) == "{\"secret\":1}") { "round trip" }
        expect(rec.pendingUploads() == listOf(SCAN_ID)) { "pending ${rec.pendingUploads()}" }
        // A record moved to another scan id does not open.
        storage.write("sealed_envelope-ffffffffffffffffffffffffffffffff", storage.read("sealed_envelope-$SCAN_ID")!!)
        expectThrows<MandrelException.Storage> { rec.get(RecordKind.SEALED_ENVELOPE, "ffffffffffffffffffffffffffffffff") }
        rec.forget(SCAN_ID)
        rec.forget("ffffffffffffffffffffffffffffffff")
        expect(storage.names().isEmpty()) { "left behind: ${storage.names()}" }
        expect(keys.handedOut.isNotEmpty() && keys.handedOut.all { k -> k.all { it == 0.toByte() } }) { "a data key copy was not wiped" }
    }
}
