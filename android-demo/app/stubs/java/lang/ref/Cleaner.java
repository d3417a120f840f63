// Compile-only stand-in for java.lang.ref.Cleaner (Java 9+, absent from android.jar API 23):
// UniFFI's generated Kotlin names it and falls back to JNA's cleaner at run time when the
// class is missing. Never packaged into the APK.
package java.lang.ref;

public final class Cleaner {
    private Cleaner() {}

    public static Cleaner create() { throw new UnsupportedOperationException("compile-only stub"); }

    public Cleanable register(Object obj, Runnable action) { throw new UnsupportedOperationException("compile-only stub"); }

    public interface Cleanable {
        void clean();
    }
}
