// The real Android build of the demo shell. NOT VERIFIED IN CI: the CI machine reaches no
// Google Maven, Gradle distribution, SDK or NDK; CI assembles a framework-only APK with
// build-apk.sh instead (see README.md). Needs Android Studio / the Android SDK (compileSdk 35),
// NDK r28+ (16 KB pages) and cargo-ndk for the native library.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "mandrel-android-demo"
include(":app")
