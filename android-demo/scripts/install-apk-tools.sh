#!/usr/bin/env bash
# Installs the chain build-apk.sh uses to assemble an APK without the Android SDK or Gradle:
# from this Debian release aapt, zipalign, apksigner, dexdump, proguard-cli and zip; from
# Debian bullseye (the last release with them) android.jar API 23 (libandroid-23-java) and
# dx (dalvik-exchange), fetched with a private apt state so the system's sources stay as they
# are; and Kotlin 2.0.21 from npm (the 2.2+ standard library has invokedynamic that dx rejects).
# Idempotent: each step is skipped when its result is present.
# Where: $MANDREL_ANDROID_HOME (default /opt/mandrel-android-tools) and $MANDREL_KOTLIN_APK_HOME.
set -euo pipefail

ANDROID_TOOLS="${MANDREL_ANDROID_HOME:-/opt/mandrel-android-tools}"
KOTLIN_APK_VERSION="${KOTLIN_APK_VERSION:-2.0.21}"
KOTLIN_APK_HOME="${MANDREL_KOTLIN_APK_HOME:-/opt/mandrel-kotlin-$KOTLIN_APK_VERSION}"
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
log() { echo "[install-apk-tools] $*"; }

# 1. From this Debian release.
need=()
command -v aapt >/dev/null 2>&1 || need+=(aapt)
command -v zipalign >/dev/null 2>&1 || need+=(zipalign)
command -v apksigner >/dev/null 2>&1 || need+=(apksigner)
command -v dexdump >/dev/null 2>&1 || need+=(dexdump)
command -v proguard >/dev/null 2>&1 || need+=(proguard-cli)
command -v zip >/dev/null 2>&1 || need+=(zip)
command -v unzip >/dev/null 2>&1 || need+=(unzip)
command -v keytool >/dev/null 2>&1 || need+=(default-jdk-headless)
[ -f /usr/share/java/jna.jar ] || need+=(libjna-java)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  log "apt-get install ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# 2. android.jar (API 23) and dx from bullseye, through a private apt state that reuses the
#    archive URI of this machine's own Debian source.
if [ ! -f "$ANDROID_TOOLS/android.jar" ] || [ ! -f "$ANDROID_TOOLS/dx.jar" ]; then
  mirror="${DEBIAN_MIRROR:-$( {
      grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}'
      grep -hsE '^deb ' /etc/apt/sources.list | awk '{print $2}'
    } | grep -E '/debian/?$' | head -n 1 || true)}"
  [ -n "$mirror" ] || { echo "install-apk-tools: no Debian archive in this machine's apt sources (set DEBIAN_MIRROR)"; exit 1; }
  tmp=$(mktemp -d)
  mkdir -p "$tmp/state/lists/partial" "$tmp/cache/archives/partial" "$tmp/etc/sources.list.d" "$tmp/etc/preferences.d" "$tmp/dl" "$tmp/x"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bullseye main" > "$tmp/etc/sources.list"
  apt_opts=(-o "Dir::State=$tmp/state" -o "Dir::Cache=$tmp/cache" -o "Dir::Etc::SourceList=$tmp/etc/sources.list"
            -o "Dir::Etc::SourceParts=$tmp/etc/sources.list.d" -o "Dir::Etc::Preferences=$tmp/etc/preferences"
            -o "Dir::Etc::PreferencesParts=$tmp/etc/preferences.d" -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root" -o "APT::Get::List-Cleanup=0")
  log "android.jar (libandroid-23-java) and dx (dalvik-exchange) from bullseye"
  apt-get "${apt_opts[@]}" update -qq
  (cd "$tmp/dl" && apt-get "${apt_opts[@]}" download -qq libandroid-23-java dalvik-exchange)
  for deb in "$tmp"/dl/*.deb; do dpkg-deb -x "$deb" "$tmp/x"; done
  $SUDO mkdir -p "$ANDROID_TOOLS"
  $SUDO cp "$(find "$tmp/x" -name 'android.jar' -path '*android-23*' | head -n 1)" "$ANDROID_TOOLS/android.jar"
  $SUDO cp "$(find "$tmp/x" -name 'dx.jar' | head -n 1)" "$ANDROID_TOOLS/dx.jar"
  rm -rf "$tmp"
fi

# 3. Kotlin 2.0.21 (its standard library dexes with dx).
if [ ! -x "$KOTLIN_APK_HOME/bin/kotlinc" ]; then
  log "kotlin-compiler $KOTLIN_APK_VERSION -> $KOTLIN_APK_HOME"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "kotlin-compiler@$KOTLIN_APK_VERSION" >/dev/null)
  $SUDO mkdir -p "$KOTLIN_APK_HOME.partial"
  $SUDO tar -xzf "$tmp/kotlin-compiler-$KOTLIN_APK_VERSION.tgz" -C "$KOTLIN_APK_HOME.partial" --strip-components=1
  $SUDO chmod +x "$KOTLIN_APK_HOME.partial"/bin/*
  $SUDO rm -rf "$KOTLIN_APK_HOME"; $SUDO mv "$KOTLIN_APK_HOME.partial" "$KOTLIN_APK_HOME"
  rm -rf "$tmp"
fi
log "done"
