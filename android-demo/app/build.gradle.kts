// The demo app. NOT VERIFIED IN CI: CI compiles core/ and src/main against android.jar with
// build-apk.sh; only this Gradle build compiles src/vendor (ARCore, MediaPipe) and packages
// libmandrel_ffi.so with JNA's libjnidispatch.so.
plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
}

val repoRoot = rootProject.projectDir.parentFile
val rustOut = File(repoRoot, "bindings/out/android")

android {
    namespace = "app.mandrel.demo"
    compileSdk = 35
    ndkVersion = "28.0.13004108" // r28+: 16 KB ELF alignment by default

    defaultConfig {
        applicationId = "app.mandrel.demo"
        minSdk = 24
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
        ndk { abiFilters += listOf("arm64-v8a", "x86_64") }
    }

    sourceSets["main"].apply {
        manifest.srcFile("src/main/AndroidManifest.xml")
        // Framework sources, the ARCore/MediaPipe adapters, the platform-free shell core and
        // the generated UniFFI bindings.
        java.srcDirs("src/main/java", "src/vendor/java", "../core/src", File(rustOut, "kotlin"))
        res.srcDirs("src/main/res")
        assets.srcDirs("src/main/assets") // put MediaPipe's hand_landmarker.task here
        jniLibs.srcDirs(File(rustOut, "jniLibs"))
    }

    packaging {
        // Native libraries stored uncompressed and page-aligned in the APK (16 KB pages).
        jniLibs { useLegacyPackaging = false }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    kotlinOptions {
        jvmTarget = "17"
        allWarningsAsErrors = true
    }

    buildTypes {
        release {
            isMinifyEnabled = true
            proguardFiles(getDefaultProguardFile("proguard-android-optimize.txt"), "proguard-rules.pro")
        }
    }
}

dependencies {
    // JNA as an AAR: its libjnidispatch.so for every ABI; 5.17+ is built for 16 KB pages.
    implementation("net.java.dev.jna:jna:5.17.0@aar")
    implementation("com.google.ar:core:1.47.0")
    implementation("com.google.mediapipe:tasks-vision:0.10.21")
}

// libmandrel_ffi.so (arm64-v8a, x86_64) and the Kotlin bindings, from cargo-ndk.
val buildRustAndroid by tasks.registering(Exec::class) {
    description = "Builds libmandrel_ffi.so and the Kotlin bindings with bindings/scripts/build-android.sh"
    workingDir = repoRoot
    commandLine("bash", "bindings/scripts/build-android.sh")
    environment("ANDROID_NDK_HOME", android.ndkDirectory.absolutePath)
    inputs.dir(File(repoRoot, "core/src"))
    inputs.dir(File(repoRoot, "bindings/src"))
    outputs.dir(rustOut)
}
tasks.named("preBuild") { dependsOn(buildRustAndroid) }
