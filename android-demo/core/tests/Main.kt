// JVM tests of the Android shell core (android-demo/core) against the real mandrel library
// through JNA. Usage: java ... MainKt MANDREL_CLI RETAILER_KEY_PREFIX SCRATCH_DIR
// (test.sh passes the CLI built with cargo and a key pair from `mandrel keygen`).
// Prints "N passed, N failed"; exits 1 on any failure.

import java.io.File
import kotlin.system.exitProcess

class TestEnv(val cli: File, val publicKey: String, val privateKeyFile: File, val scratch: File)

fun main(args: Array<String>) {
    if (args.size != 3) {
        System.err.println("usage: MainKt MANDREL_CLI RETAILER_KEY_PREFIX SCRATCH_DIR")
        exitProcess(2)
    }
    val env = TestEnv(File(args[0]), File(args[1] + ".pub").readText().trim(), File(args[1] + ".key"), File(args[2]))
    val h = Harness()
    runTextTests(h)
    runGeometryTests(h)
    runUploadTests(h)
    runFlowTests(h, env)
    exitProcess(h.summary())
}
