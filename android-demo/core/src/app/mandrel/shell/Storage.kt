package app.mandrel.shell

import app.mandrel.EncryptedStore
import app.mandrel.RecordKind

/**
 * The 32-byte data key that encrypts records at rest. The app implements it with the Android
 * Keystore (the key itself wrapped by a non-exportable Keystore key); tests with memory.
 */
interface DataKeyStore {
    /** The data key, created on first use. The caller wipes its copy after use. */
    fun dataKey(): ByteArray

    /** Destroys the key: every record encrypted under it becomes unreadable. */
    fun destroy()
}

/** Where encrypted records live (app: files in `filesDir`; tests: a map). Bytes in, bytes out. */
interface RecordStorage {
    /** Stores `bytes` under `name`, replacing what was there. */
    fun write(name: String, bytes: ByteArray)

    /** The bytes under `name`, or null. */
    fun read(name: String): ByteArray?

    /** Removes `name`; no error when absent. */
    fun delete(name: String)

    /** Every stored name. */
    fun names(): List<String>
}

/** A [RecordStorage] in memory (tests, and demo mode when nothing may touch the disk). */
class MemoryRecordStorage : RecordStorage {
    private val records = LinkedHashMap<String, ByteArray>()

    @Synchronized override fun write(name: String, bytes: ByteArray) { records[name] = bytes.copyOf() }
    @Synchronized override fun read(name: String): ByteArray? = records[name]?.copyOf()
    @Synchronized override fun delete(name: String) { records.remove(name) }
    @Synchronized override fun names(): List<String> = records.keys.toList()
}

/**
 * The scan's records at rest: the consent and the sealed envelope awaiting upload, each
 * encrypted by the library's [EncryptedStore] and bound to its kind and scan id, so a
 * pending upload survives the app being killed. [forget] removes every trace of a scan.
 */
class ScanRecords(private val keys: DataKeyStore, private val storage: RecordStorage) {
    private fun <T> withStore(body: (EncryptedStore) -> T): T {
        val key = keys.dataKey()
        try {
            return EncryptedStore(key).use(body)
        } finally {
            key.fill(0)
        }
    }

    private fun name(kind: RecordKind, scanId: String) = "${kind.name.lowercase()}-$scanId"

    /** Encrypts and stores `plaintext` as `kind` for `scanId`. */
    fun put(kind: RecordKind, scanId: String, plaintext: ByteArray) {
        val record = withStore { it.seal(kind, scanId, plaintext) }
        storage.write(name(kind, scanId), record)
    }

    /** The decrypted record, or null when none is stored. Throws `MandrelException.Storage` when it was altered. */
    fun get(kind: RecordKind, scanId: String): ByteArray? {
        val record = storage.read(name(kind, scanId)) ?: return null
        return withStore { it.open(kind, scanId, record) }
    }

    /** Removes every record of `scanId`. */
    fun forget(scanId: String) {
        for (kind in RecordKind.entries) storage.delete(name(kind, scanId))
    }

    /** Scan ids with a sealed envelope still waiting for upload. */
    fun pendingUploads(): List<String> {
        val prefix = name(RecordKind.SEALED_ENVELOPE, "")
        return storage.names().filter { it.startsWith(prefix) }.map { it.removePrefix(prefix) }
    }
}
