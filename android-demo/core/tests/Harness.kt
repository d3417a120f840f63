// Test harness for the shell core's JVM tests: no dependencies beyond the Kotlin stdlib, so
// the tests compile with a bare kotlinc -Werror. Prints "N passed, N failed".

class Harness {
    var passed = 0
    var failed = 0

    fun test(name: String, body: () -> Unit) {
        val t0 = System.nanoTime()
        try {
            body()
            passed++
            println("ok   $name (${(System.nanoTime() - t0) / 1_000_000} ms)")
        } catch (e: Throwable) {
            failed++
            println("FAIL $name: ${e::class.qualifiedName}: ${e.message}")
            e.cause?.let { println("     caused by ${it::class.qualifiedName}: ${it.message}") }
        }
    }

    fun summary(): Int {
        println("$passed passed, $failed failed")
        return if (failed == 0) 0 else 1
    }
}

class AssertionFailed(message: String) : Exception(message)

fun expect(cond: Boolean, message: () -> String) {
    if (!cond) throw AssertionFailed(message())
}

fun near(a: Double, b: Double, tol: Double, what: String) {
    if (!(Math.abs(a - b) <= tol)) throw AssertionFailed("$what: $a is not within $tol of $b")
}

/** Runs [body] and checks it throws exactly [T] (or a subclass); returns the exception. */
inline fun <reified T : Throwable> expectThrows(body: () -> Unit): T {
    try {
        body()
    } catch (e: Throwable) {
        if (e is T) return e
        throw AssertionFailed("expected ${T::class.qualifiedName}, got ${e::class.qualifiedName}: ${e.message}")
    }
    throw AssertionFailed("expected ${T::class.qualifiedName}, nothing was thrown")
}

/** A small JSON reader: objects become Map<String, Any?>, arrays List<Any?>, numbers Double. */
class Json private constructor(private val s: String) {
    private var i = 0

    companion object {
        fun parse(text: String): Any? = Json(text).run {
            val v = value(); ws()
            expect(i == s.length) { "trailing text after JSON at $i" }
            v
        }
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
            else -> if (c == '-' || c.isDigit()) num() else throw AssertionFailed("bad JSON at $i")
        }
    }

    private fun obj(): Map<String, Any?> {
        val m = LinkedHashMap<String, Any?>()
        i++; ws()
        if (s[i] == '}') { i++; return m }
        while (true) {
            ws(); val k = str(); ws(); i++
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
fun Any?.num(): Double = this as Double
