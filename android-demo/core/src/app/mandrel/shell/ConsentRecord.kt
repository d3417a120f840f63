package app.mandrel.shell

import app.mandrel.Consent
import app.mandrel.ConsentScope

/**
 * What the shopper agreed to on the consent screen, kept for the receipt and sealed into the
 * envelope's authenticated header. Created only by [ConsentRecord.grant] when the shopper
 * taps "I agree"; declining creates nothing.
 */
data class ConsentRecord(
    /** Why the data is shared, exactly as shown. */
    val purpose: String,
    /** What may leave the phone. */
    val scope: ConsentScope,
    /** Version of the privacy text shown. */
    val policyVersion: String,
    /** When the shopper agreed, RFC 3339 UTC. */
    val grantedAt: String,
    /** The retailer the shopper agreed to send to (shown on the screen). */
    val recipient: String,
) {
    init {
        require(purpose.isNotBlank()) { "consent purpose is empty" }
        require(policyVersion.isNotBlank()) { "consent policy version is empty" }
        require(recipient.isNotBlank()) { "consent recipient is empty" }
        require(RFC3339_UTC.matches(grantedAt)) { "grantedAt must be RFC 3339 UTC (…Z), got '$grantedAt'" }
    }

    /** The record the library seals with. */
    fun toBinding(): Consent = Consent(purpose, scope, policyVersion, grantedAt)

    /** A small JSON object for the encrypted store (strings escaped). */
    fun toJson(): String = buildString {
        append('{')
        append("\"purpose\":").append(JsonText.quote(purpose)).append(',')
        append("\"scope\":").append(JsonText.quote(scopeName(scope))).append(',')
        append("\"policy_version\":").append(JsonText.quote(policyVersion)).append(',')
        append("\"granted_at\":").append(JsonText.quote(grantedAt)).append(',')
        append("\"recipient\":").append(JsonText.quote(recipient))
        append('}')
    }

    companion object {
        private val RFC3339_UTC = Regex("""\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z""")

        /** The envelope spec's name of a scope. */
        fun scopeName(scope: ConsentScope): String = when (scope) {
            ConsentScope.MEASUREMENT -> "measurement"
            ConsentScope.MEASUREMENT_AND_MESH -> "measurement+mesh"
        }

        /** The record of a "yes" given now (`now` is the library's `nowRfc3339Utc()`). */
        fun grant(purpose: String, scope: ConsentScope, policyVersion: String, recipient: String, now: String): ConsentRecord =
            ConsentRecord(purpose, scope, policyVersion, now, recipient)
    }
}

/** JSON string quoting, enough for the records the shell writes. */
object JsonText {
    /** `s` as a JSON string literal. */
    fun quote(s: String): String = buildString {
        append('"')
        for (c in s) {
            when {
                c == '"' -> append("\\\"")
                c == '\\' -> append("\\\\")
                c == '\n' -> append("\\n")
                c == '\r' -> append("\\r")
                c == '\t' -> append("\\t")
                c < ' ' -> append("\\u").append(c.code.toString(16).padStart(4, '0'))
                else -> append(c)
            }
        }
        append('"')
    }
}
