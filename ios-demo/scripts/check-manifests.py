#!/usr/bin/env python3
"""CI check of the iOS app's manifests.

1. Every property list under App/ (Info.plist, PrivacyInfo.xcprivacy, *.entitlements) parses
   (plistlib: the toolchain's plutil exits 0 on bad files).
2. Info.plist explains the camera (NSCameraUsageDescription).
3. PrivacyInfo.xcprivacy: no tracking, no tracking domains, the measurement declared as
   collected for app functionality, and each required-reason API category with valid
   reason codes.
4. With --lib: the undefined symbols of the iOS static library (llvm-nm) mapped to Apple's
   required-reason API categories must be exactly the categories the manifest declares.

Usage: check-manifests.py APP_DIR [--lib libmandrel_ffi.a] [--nm llvm-nm]
Prints one line per check and exits non-zero on the first failing group.
"""
import argparse
import pathlib
import plistlib
import re
import subprocess
import sys

# Apple's required-reason APIs reachable from C (Rust's std and libc calls), by category.
# Objective-C/Swift-only APIs (NSFileManager attributes, ProcessInfo.systemUptime,
# UserDefaults) are matched by their class symbols. Mach-O names carry a leading "_" and
# some an "$INODE64" suffix.
CATEGORIES = {
    "NSPrivacyAccessedAPICategoryFileTimestamp": {
        "stat", "fstat", "lstat", "fstatat", "getattrlist", "fgetattrlist", "getattrlistat", "getattrlistbulk",
    },
    "NSPrivacyAccessedAPICategorySystemBootTime": {"mach_absolute_time"},
    "NSPrivacyAccessedAPICategoryDiskSpace": {"statfs", "statvfs", "fstatfs", "fstatvfs"},
    "NSPrivacyAccessedAPICategoryUserDefaults": {"OBJC_CLASS_$_NSUserDefaults", "CFPreferencesCopyAppValue",
                                                 "CFPreferencesSetAppValue", "CFPreferencesCopyValue"},
    "NSPrivacyAccessedAPICategoryActiveKeyboards": {"OBJC_CLASS_$_UITextInputMode"},
}
# The approved reason codes of each category (Apple's "Describing use of required reason API").
REASONS = {
    "NSPrivacyAccessedAPICategoryFileTimestamp": {"DDA9.1", "C617.1", "3B52.1", "0A2A.1"},
    "NSPrivacyAccessedAPICategorySystemBootTime": {"35F9.1", "8FFB.1", "3D61.1"},
    "NSPrivacyAccessedAPICategoryDiskSpace": {"85F4.1", "E174.1", "7D9E.1", "B728.1"},
    "NSPrivacyAccessedAPICategoryUserDefaults": {"CA92.1", "1C8F.1", "C56D.1", "AC6B.1"},
    "NSPrivacyAccessedAPICategoryActiveKeyboards": {"3EC4.1", "54BD.1"},
}


def fail(msg):
    print(f"[manifests] FAIL {msg}")
    sys.exit(1)


def ok(msg):
    print(f"[manifests] ok   {msg}")


def base_name(symbol):
    name = symbol[1:] if symbol.startswith("_") else symbol
    return re.sub(r"\$(INODE64|UNIX2003|DARWIN_EXTSN|NOCANCEL)+$", "", name)


def symbols(lib, nm, which):
    # --no-llvm-bc: read the Mach-O symbol tables, not the embedded bitcode (which an older
    # LLVM than rustc's cannot parse).
    run = subprocess.run([nm, "--no-llvm-bc", which, "--just-symbol-name", lib], capture_output=True, text=True)
    names = {line.strip() for line in run.stdout.splitlines() if line.strip() and not line.endswith(":")}
    if run.returncode != 0 or not names:
        fail(f"{nm} {which} {lib} failed: {run.stderr.strip()[:300]}")
    return names


def symbol_categories(lib, nm):
    """The archive's external references (undefined in a member and defined in none),
    grouped by required-reason category."""
    undefined = symbols(lib, nm, "--undefined-only") - symbols(lib, nm, "--defined-only")
    found = {}
    for sym in sorted(undefined):
        name = base_name(sym)
        for category, names in CATEGORIES.items():
            if name in names:
                found.setdefault(category, set()).add(name)
    return len(undefined), found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("app_dir")
    ap.add_argument("--lib")
    ap.add_argument("--nm", default="llvm-nm")
    a = ap.parse_args()
    app = pathlib.Path(a.app_dir)

    plists = sorted(p for p in app.rglob("*") if p.suffix in (".plist", ".xcprivacy", ".entitlements"))
    if not plists:
        fail(f"no property lists under {app}")
    loaded = {}
    for p in plists:
        try:
            with open(p, "rb") as f:
                loaded[p.name] = plistlib.load(f)
        except Exception as e:  # plistlib raises several types for bad input
            fail(f"{p} does not parse: {e}")
    ok(f"{len(plists)} property lists parse: {', '.join(p.name for p in plists)}")

    info = loaded.get("Info.plist") or fail("Info.plist missing")
    camera = info.get("NSCameraUsageDescription")
    if not isinstance(camera, str) or len(camera.strip()) < 20:
        fail("Info.plist: NSCameraUsageDescription missing or too short to explain the use")
    ok("Info.plist: NSCameraUsageDescription present")

    privacy = loaded.get("PrivacyInfo.xcprivacy") or fail("PrivacyInfo.xcprivacy missing")
    if privacy.get("NSPrivacyTracking") is not False:
        fail("PrivacyInfo: NSPrivacyTracking must be false")
    if privacy.get("NSPrivacyTrackingDomains", []) != []:
        fail("PrivacyInfo: NSPrivacyTrackingDomains must be empty")
    collected = privacy.get("NSPrivacyCollectedDataTypes") or fail("PrivacyInfo: no NSPrivacyCollectedDataTypes")
    for entry in collected:
        if entry.get("NSPrivacyCollectedDataTypeTracking") is not False:
            fail(f"PrivacyInfo: {entry.get('NSPrivacyCollectedDataType')} marked as used for tracking")
    if not any("NSPrivacyCollectedDataTypePurposeAppFunctionality" in e.get("NSPrivacyCollectedDataTypePurposes", [])
               for e in collected):
        fail("PrivacyInfo: the measurement is not declared as collected for app functionality")
    ok("PrivacyInfo: no tracking, measurement collected for app functionality")

    declared = {}
    for entry in privacy.get("NSPrivacyAccessedAPITypes", []):
        category = entry.get("NSPrivacyAccessedAPIType")
        reasons = set(entry.get("NSPrivacyAccessedAPITypeReasons", []))
        if category not in REASONS:
            fail(f"PrivacyInfo: unknown required-reason category {category}")
        if not reasons or not reasons <= REASONS[category]:
            fail(f"PrivacyInfo: {category} reasons {sorted(reasons)} not among {sorted(REASONS[category])}")
        declared[category] = reasons
    ok(f"PrivacyInfo: declared categories {sorted(declared) or 'none'}")

    if a.lib:
        total, found = symbol_categories(a.lib, a.nm)
        print(f"[manifests] symbol scan of {pathlib.Path(a.lib).name}: {total} external symbols referenced")
        for category in sorted(CATEGORIES):
            names = sorted(found.get(category, ()))
            print(f"[manifests]   {category}: {', '.join(names) if names else '-'}")
        if set(found) != set(declared):
            missing = sorted(set(found) - set(declared))
            extra = sorted(set(declared) - set(found))
            fail(f"required-reason categories differ from the symbol scan: undeclared {missing}, declared but unused {extra}")
        ok("required-reason categories match the symbol scan")


if __name__ == "__main__":
    main()
