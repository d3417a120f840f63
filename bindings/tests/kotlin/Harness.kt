// Minimal test harness and JSON reader for the Kotlin binding tests (no dependencies
// beyond the Kotlin stdlib and JNA, so the test compiles with a bare kotlinc).

class Harness {
    var passed = 0
    var failed = 0

    fun test(name: String, body: () -> Unit) {
        try {
            body()
            passed++
            println("ok   $name")
        } catch (e: Throwable) {
            failed++
            println("FAIL $name: ${e::class.qualifiedName}: ${e.message}")
        }
    }

    fun summary(): Int {
        println("$passed passed, $failed failed")
        return if (failed == 0) 0 else 1
    }
}

class AssertionFailed(message: String) : Exception(message)

fun check(cond: Boolean, message: () -> String) {
    if (!cond) throw AssertionFailed(message())
}

/** Runs [body] and checks it throws exactly [T]; returns the exception. */
inline fun <reified T : Throwable> expectThrows(body: () -> Unit): T {
    try {
        body()
    } catch (e: Throwable) {
        if (e::class == T::class) return e as T
        throw AssertionFailed("expected ${T::class.qualifiedName}, got ${e::class.qualifiedName}: ${e.message}")
    }
    throw AssertionFailed("expected ${T::class.qualifiedName}, nothing was thrown")
}

/** A small JSON parser: objects become Map<String, Any?>, arrays List<Any?>, numbers Double. */
class Json(private val s: String) {
    private var i = 0

    companion object {
        fun parse(text: String): Any? = Json(text).run { val v = value(); ws(); check(i == s.length) { "trailing JSON" }; v }
    }

    private fun ws() { while (i < s.length && s[i].isWhitespace()) i++ }

    private fun value(): Any? {
        ws()
        return when (val c = s[i]) {
            '{' -> obj()
            '[' -> arr()
            '"' -> str()
            't' -> { i += 4; true }
            'f' -> { i += 5; false }
            'n' -> { i += 4; null }
            else -> if (c == '-' || c.isDigit()) num() else throw IllegalStateException("bad JSON at $i")
        }
    }

    private fun obj(): Map<String, Any?> {
        val m = LinkedHashMap<String, Any?>()
        i++; ws()
        if (s[i] == '}') { i++; return m }
        while (true) {
            ws(); val k = str(); ws(); i++ // ':'
            m[k] = value(); ws()
            if (s[i++] == '}') return m
        }
    }

    private fun arr(): List<Any?> {
        val l = ArrayList<Any?>()
        i++; ws()
        if (s[i] == ']') { i++; return l }
        while (true) {
            l.add(value()); ws()
            if (s[i++] == ']') return l
        }
    }

    private fun str(): String {
        val b = StringBuilder()
        i++
        while (s[i] != '"') {
            if (s[i] == '\\') {
                i++
                when (s[i]) {
                    'n' -> b.append('\n'); 't' -> b.append('\t'); 'r' -> b.append('\r')
                    'u' -> { b.append(s.substring(i + 1, i + 5).toInt(16).toChar()); i += 4 }
                    else -> b.append(s[i])
                }
            } else b.append(s[i])
            i++
        }
        i++
        return b.toString()
    }

    private fun num(): Double {
        val st = i
        while (i < s.length && (s[i].isDigit() || s[i] in "+-.eE")) i++
        return s.substring(st, i).toDouble()
    }
}

@Suppress("UNCHECKED_CAST")
fun Any?.obj(): Map<String, Any?> = this as Map<String, Any?>
@Suppress("UNCHECKED_CAST")
fun Any?.list(): List<Any?> = this as List<Any?>
fun Any?.num(): Double = this as Double
