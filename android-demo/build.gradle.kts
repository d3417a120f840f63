// Top-level build file. NOT VERIFIED IN CI (see settings.gradle.kts and README.md).
plugins {
    id("com.android.application") version "8.7.3" apply false
    id("org.jetbrains.kotlin.android") version "2.0.21" apply false
}
