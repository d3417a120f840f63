#!/usr/bin/env bash
# Assembles a signed, 16 KB-aligned debug APK of the demo shell without the Android SDK or
# Gradle, from Debian and npm packages (android-demo/scripts/install-apk-tools.sh):
#   aapt (manifest + resources against android.jar API 23) -> kotlinc 2.0.21 (core/ + app/
#   framework sources + the generated bindings) -> ProGuard (shrink) -> dx (dex, minSdk 24)
#   -> zipalign 16384 -> apksigner (a generated debug key)
# then checks apksigner verify, zipalign -c 16384, aapt dump badging and that no dex method
# uses invoke-custom. The ARCore/MediaPipe adapters (app/src/vendor) need Gradle and are not
# compiled here. The APK carries NO native library (no NDK here): the scan cannot run in it.
# Usage: android-demo/build-apk.sh OUT.apk   (prints a closing "N passed, N failed" for the checks)
set -uo pipefail
OUT_APK="${1:?usage: build-apk.sh OUT.apk}"
case "$OUT_APK" in /*) ;; *) OUT_APK="$PWD/$OUT_APK" ;; esac
cd "$(dirname "$0")/.."
REPO=$PWD
TARGET="${CARGO_TARGET_DIR:-$REPO/target}"
export CARGO_TARGET_DIR="$TARGET"
ANDROID_TOOLS="${MANDREL_ANDROID_HOME:-/opt/mandrel-android-tools}"
KOTLIN_APK_HOME="${MANDREL_KOTLIN_APK_HOME:-/opt/mandrel-kotlin-2.0.21}"
JNA_JAR="${JNA_JAR:-/usr/share/java/jna.jar}"
ANDROID_JAR="$ANDROID_TOOLS/android.jar"
W="$TARGET/android-demo/apk"
t0=$(date +%s)
step() { echo "[build-apk +$(( $(date +%s) - t0 ))s] $*"; }
die() { echo "build-apk: $*"; echo "0 passed, 1 failed"; exit 1; }

missing=()
for tool in aapt zipalign apksigner dexdump proguard keytool zip unzip java javac; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
for f in "$ANDROID_JAR" "$ANDROID_TOOLS/dx.jar" "$KOTLIN_APK_HOME/bin/kotlinc" "$JNA_JAR"; do
  [ -e "$f" ] || missing+=("$f")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "${CI:-}" = "true" ]; then die "missing ${missing[*]} (CI=true: run .ci/install)"; fi
  echo "SKIP: missing ${missing[*]} (run .ci/install)"; exit 0
fi

rm -rf "$W"; mkdir -p "$W"/{gen,stubs,r,rclasses,dex}
# aapt needs the package, versions and SDK levels in the manifest; the Gradle build keeps them
# in app/build.gradle.kts (AGP refuses them in the manifest): copy them from there.
GRADLE=android-demo/app/build.gradle.kts
gradle_value() { sed -n "s/^ *$1 = \"\{0,1\}\([^\"]*\)\"\{0,1\}$/\1/p" "$GRADLE" | head -n 1; }
APP_ID=$(gradle_value applicationId); MIN_SDK=$(gradle_value minSdk); TARGET_SDK=$(gradle_value targetSdk)
VERSION_CODE=$(gradle_value versionCode); VERSION_NAME=$(gradle_value versionName)
[ -n "$APP_ID" ] && [ -n "$MIN_SDK" ] && [ -n "$TARGET_SDK" ] && [ -n "$VERSION_CODE" ] && [ -n "$VERSION_NAME" ] \
  || die "cannot read applicationId/minSdk/targetSdk/versionCode/versionName from $GRADLE"
MANIFEST="$W/AndroidManifest.xml"
sed -e "s|<manifest xmlns:android=\"http://schemas.android.com/apk/res/android\">|<manifest xmlns:android=\"http://schemas.android.com/apk/res/android\" package=\"$APP_ID\" android:versionCode=\"$VERSION_CODE\" android:versionName=\"$VERSION_NAME\">\n    <uses-sdk android:minSdkVersion=\"$MIN_SDK\" android:targetSdkVersion=\"$TARGET_SDK\" />|" \
  android-demo/app/src/main/AndroidManifest.xml > "$MANIFEST"
grep -q "package=\"$APP_ID\"" "$MANIFEST" || die "could not write the package into the manifest"

step "generating the Kotlin bindings (library built with feature sim, for demo mode)"
cargo build --release --locked -p mandrel-ffi --features sim -q || die "cargo build mandrel-ffi"
cargo build --release --locked -p uniffi-bindgen -q || die "cargo build uniffi-bindgen"
"$TARGET/release/uniffi-bindgen" generate --no-format --library "$TARGET/release/libmandrel_ffi.so" -l kotlin -o "$W/gen" >/dev/null \
  || die "uniffi-bindgen"

step "aapt: manifest and resources against android.jar (API 23)"
aapt package -f -M "$MANIFEST" -S android-demo/app/src/main/res -I "$ANDROID_JAR" -J "$W/r" -F "$W/resources.apk" || die "aapt package"
javac -nowarn -source 8 -target 8 -Xlint:-options -bootclasspath "$ANDROID_JAR" -d "$W/rclasses" $(find "$W/r" -name R.java) || die "javac R"

step "compile-only stub for java.lang.ref.Cleaner"
javac -nowarn -source 8 -target 8 -Xlint:-options -bootclasspath "$ANDROID_JAR" -d "$W/stubs" \
  android-demo/app/stubs/java/lang/ref/Cleaner.java || die "javac stub"

step "kotlinc 2.0.21 -Werror: core/ + app/src/main + bindings against android.jar"
"$KOTLIN_APK_HOME/bin/kotlinc" -Werror -no-jdk -no-reflect -jvm-target 1.8 -Xlambdas=class -Xsam-conversions=class \
  -cp "$ANDROID_JAR:$W/stubs:$W/rclasses:$JNA_JAR" \
  "$W/gen" android-demo/core/src android-demo/app/src/main/java -d "$W/app-classes.jar" 2>&1 | grep -v "^OpenJDK.*warning"
[ -f "$W/app-classes.jar" ] || die "kotlinc failed"

step "ProGuard: shrink app + kotlin-stdlib + JNA"
cat > "$W/proguard.pro" <<PRO
-injars $W/app-classes.jar
-injars $W/rclasses
-injars $KOTLIN_APK_HOME/lib/kotlin-stdlib.jar(!META-INF/**)
-injars $JNA_JAR(!META-INF/**,!com/sun/jna/*/**.so,!com/sun/jna/*/**.a,!com/sun/jna/*/**.dll,!com/sun/jna/*/**.jnilib)
-outjars $W/shrunk.jar
-libraryjars $ANDROID_JAR
-dontobfuscate
-dontoptimize
-dontpreverify
-keepattributes *Annotation*,Signature,InnerClasses,EnclosingMethod
-keep class app.mandrel.demo.MainActivity { *; }
-keep class app.mandrel.** { *; }
-keep class com.sun.jna.** { *; }
-keepclassmembers class * extends com.sun.jna.Structure { public *; }
-dontwarn java.lang.Double,java.lang.Float,java.lang.Boolean,java.lang.Integer,java.lang.Long,java.lang.Short,java.lang.Byte,java.lang.Character,java.lang.ref.Cleaner,java.lang.ref.Cleaner\$*
-dontwarn java.lang.invoke.**,java.awt.**,javax.swing.**,java.lang.management.**,sun.misc.**,java.lang.reflect.**
-dontwarn kotlin.**,com.sun.jna.**,org.jetbrains.annotations.**
-dontnote **
PRO
proguard @"$W/proguard.pro" > "$W/proguard.log" 2>&1 || { tail -30 "$W/proguard.log"; die "proguard"; }

step "dx: dex for minSdk 24"
java -jar "$ANDROID_TOOLS/dx.jar" --dex --min-sdk-version=24 --output="$W/dex/classes.dex" "$W/shrunk.jar" > "$W/dx.log" 2>&1 \
  || { tail -30 "$W/dx.log"; die "dx"; }

step "package, zipalign 16 KB, sign"
cp "$W/resources.apk" "$W/unaligned.apk"
(cd "$W/dex" && zip -q -X "$W/unaligned.apk" classes.dex) || die "zip classes.dex"
# Native libraries would be added stored (zip -0) under lib/<abi>/; this build has none.
zipalign -f 16384 "$W/unaligned.apk" "$W/aligned.apk" || die "zipalign"
KEYSTORE="$W/debug.keystore"
keytool -genkeypair -keystore "$KEYSTORE" -storepass android -keypass android -alias mandreldebug \
  -keyalg RSA -keysize 2048 -validity 365 -dname "CN=mandrel debug" >/dev/null 2>&1 || die "keytool"
mkdir -p "$(dirname "$OUT_APK")"
apksigner sign --ks "$KEYSTORE" --ks-pass pass:android --key-pass pass:android --min-sdk-version 24 \
  --out "$OUT_APK" "$W/aligned.apk" || die "apksigner sign"
rm -f "$OUT_APK.idsig"

step "checks"
passed=0; failed=0
check() { # name command...
  local name=$1; shift
  if "$@" > "$W/check.log" 2>&1; then passed=$((passed + 1)); echo "ok   $name"
  else failed=$((failed + 1)); echo "FAIL $name"; tail -5 "$W/check.log"; fi
}
check "apksigner verify (minSdk 24)" apksigner verify --min-sdk-version 24 "$OUT_APK"
check "zipalign -c 16384 (16 KB pages)" zipalign -c 16384 "$OUT_APK"
badging() {
  aapt dump badging "$OUT_APK" > "$W/badging.txt" || return 1
  grep -q "^package: name='app.mandrel.demo'" "$W/badging.txt" &&
  grep -q "^sdkVersion:'24'" "$W/badging.txt" &&
  grep -q "^launchable-activity: name='app.mandrel.demo.MainActivity'" "$W/badging.txt" &&
  grep -q "uses-permission: name='android.permission.CAMERA'" "$W/badging.txt" &&
  grep -q "uses-feature-not-required: name='android.hardware.camera.ar'" "$W/badging.txt"
}
check "badging: package, sdkVersion 24, launchable MainActivity, CAMERA, camera.ar optional" badging
arcore_optional() {
  aapt dump xmltree "$OUT_APK" AndroidManifest.xml > "$W/manifest-tree.txt" || return 1
  grep -A2 '"com.google.ar.core"' "$W/manifest-tree.txt" | grep -q '"optional"'
}
check "manifest: com.google.ar.core meta-data is optional" arcore_optional
no_invoke_custom() {
  dexdump -d "$W/dex/classes.dex" > "$W/dexdump.txt" || return 1
  ! grep -q "invoke-custom\|invoke-polymorphic" "$W/dexdump.txt"
}
check "no invoke-custom / invoke-polymorphic in classes.dex" no_invoke_custom
activity_in_dex() { grep -q "Lapp/mandrel/demo/MainActivity;" "$W/dexdump.txt" && grep -q "Lapp/mandrel/shell/ScanFlow;" "$W/dexdump.txt"; }
check "classes.dex holds MainActivity and the shell core" activity_in_dex
no_native() { ! unzip -l "$OUT_APK" | grep -q " lib/"; }
check "no native library packaged (stated below)" no_native
size=$(stat -c %s "$OUT_APK")
classes=$(grep -c "Class descriptor" "$W/dexdump.txt" || true)
echo "APK: $OUT_APK, $size bytes ($(( size / 1024 )) KiB), $classes classes in classes.dex"
echo "NOTE: this APK carries no native library: libmandrel_ffi.so and JNA's libjnidispatch.so need the"
echo "      NDK (bindings/scripts/build-android.sh + the JNA @aar in the Gradle build). Installed as it is,"
echo "      the app starts and says so; scanning needs the Gradle build (android-demo/README.md)."
step "done"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
