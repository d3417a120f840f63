package app.mandrel.demo

import android.content.Context
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import app.mandrel.shell.DataKeyStore
import app.mandrel.shell.RecordStorage
import app.mandrel.shell.UploadRequest
import app.mandrel.shell.UploadResponse
import java.io.File
import java.io.IOException
import java.net.HttpURLConnection
import java.net.URL
import java.security.KeyStore
import java.security.SecureRandom
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * The data key of the encrypted records, kept wrapped (AES-256-GCM) by a non-exportable key
 * in the Android Keystore; only the wrapped bytes touch the disk (no-backup folder).
 */
class AndroidKeystoreDataKeys(context: Context) : DataKeyStore {
    private val wrapped = File(context.noBackupFilesDir, "mandrel-data-key.bin")

    private fun wrappingKey(): SecretKey {
        val ks = KeyStore.getInstance(ANDROID_KEYSTORE).apply { load(null) }
        (ks.getKey(ALIAS, null) as? SecretKey)?.let { return it }
        val gen = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, ANDROID_KEYSTORE)
        gen.init(KeyGenParameterSpec.Builder(ALIAS, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
            .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            .setKeySize(256)
            .build())
        return gen.generateKey()
    }

    @Synchronized override fun dataKey(): ByteArray {
        val key = wrappingKey()
        if (wrapped.isFile) {
            val blob = wrapped.readBytes()
            val cipher = Cipher.getInstance(TRANSFORMATION)
            cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(128, blob, 0, IV_BYTES))
            return cipher.doFinal(blob, IV_BYTES, blob.size - IV_BYTES)
        }
        val fresh = ByteArray(32).also { SecureRandom().nextBytes(it) }
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.ENCRYPT_MODE, key) // the Keystore picks the IV
        val sealed = cipher.iv + cipher.doFinal(fresh)
        val tmp = File(wrapped.path + ".tmp")
        tmp.writeBytes(sealed)
        if (!tmp.renameTo(wrapped)) throw IOException("cannot store the wrapped data key")
        return fresh
    }

    @Synchronized override fun destroy() {
        wrapped.delete()
        KeyStore.getInstance(ANDROID_KEYSTORE).apply { load(null) }.deleteEntry(ALIAS)
    }

    private companion object {
        const val ANDROID_KEYSTORE = "AndroidKeyStore"
        const val ALIAS = "mandrel-data-key-wrap"
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val IV_BYTES = 12
    }
}

/** Encrypted records as files in the app's private folder, replaced atomically. */
class FileRecordStorage(context: Context) : RecordStorage {
    private val dir = File(context.filesDir, "mandrel-records").apply { mkdirs() }

    private fun file(name: String): File {
        require(name.matches(Regex("[a-z_]+-[0-9a-f]{32}"))) { "bad record name '$name'" }
        return File(dir, name)
    }

    @Synchronized override fun write(name: String, bytes: ByteArray) {
        val tmp = File(dir, "$name.tmp")
        tmp.writeBytes(bytes)
        if (!tmp.renameTo(file(name))) throw IOException("cannot store record $name")
    }

    @Synchronized override fun read(name: String): ByteArray? = file(name).takeIf { it.isFile }?.readBytes()

    @Synchronized override fun delete(name: String) { file(name).delete() }

    @Synchronized override fun names(): List<String> = dir.list()?.filter { !it.endsWith(".tmp") }?.sorted() ?: emptyList()
}

/** Sends an [UploadRequest] with HttpURLConnection; call it off the main thread. */
object HttpUploader {
    /** The response, or a network error; never throws for I/O. */
    fun send(request: UploadRequest): UploadResponse {
        var conn: HttpURLConnection? = null
        return try {
            conn = URL(request.url).openConnection() as HttpURLConnection
            conn.requestMethod = request.method
            conn.connectTimeout = 15_000
            conn.readTimeout = 30_000
            conn.doOutput = true
            conn.setFixedLengthStreamingMode(request.body.size)
            for ((k, v) in request.headers) conn.setRequestProperty(k, v)
            conn.outputStream.use { it.write(request.body) }
            val status = conn.responseCode
            val retryAfter = conn.getHeaderField("Retry-After")?.trim()?.toLongOrNull()
            UploadResponse.Http(status, retryAfter)
        } catch (e: IOException) {
            UploadResponse.NetworkError(e.toString())
        } finally {
            conn?.disconnect()
        }
    }
}
