#!/usr/bin/env python3
"""Writes the hostile inputs of issue 16 into OUT_DIR (see run.sh). Only the standard
library: 16-bit PNGs are written by hand (zlib)."""
import json, os, random, shutil, struct, sys, zlib

out = sys.argv[1]
shared_scan = sys.argv[2] if len(sys.argv) > 2 else None
os.makedirs(out, exist_ok=True)


def png16(w, h, row):
    """A w x h 16-bit grey PNG whose every row is `row` (bytes, big-endian samples)."""
    raw = (b"\0" + row) * h
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def manifest(w, h, frames, fx=None):
    fx = fx if fx is not None else 0.9 * w
    return {"format": "mandrel-scan", "version": 1, "sensor": "synthetic",
            "intrinsics": {"width": w, "height": h, "fx": fx, "fy": fx, "cx": (w - 1) / 2, "cy": (h - 1) / 2},
            "depth_scale": 1000.0, "target": {"hand": "left", "finger": "ring"}, "frames": frames}


def entry(path, i, pose=True):
    return {"depth": path, "timestamp": i / 30.0,
            "pose": [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1] if pose else None, "landmarks": None}


def scan(name, w, h, n, distinct=True, fx=None, row=None, pose=True):
    d = os.path.join(out, name)
    os.makedirs(os.path.join(d, "depth"), exist_ok=True)
    row = row if row is not None else struct.pack(">H", 300) * w
    data = png16(w, h, row)
    frames = []
    for i in range(n):
        p = "depth/%06d.png" % (i if distinct else 0)
        if distinct or i == 0:
            open(os.path.join(d, p), "wb").write(data)
        frames.append(entry(p, i, pose))
    json.dump(manifest(w, h, frames, fx), open(os.path.join(d, "scan.json"), "w"))
    return d


# 1. Huge frames.
scan("huge-8192-x1", 8192, 8192, 1)
scan("huge-8192-x3", 8192, 8192, 3)
scan("plane-1920x1440-x10", 1920, 1440, 10)
# 2. 100,000 manifest entries for one PNG.
scan("entries-100k", 64, 48, 100_000, distinct=False)
# 3. Replayed frames: a shared scan listed three times (same files; and copies).
if shared_scan:
    for name, copy in [("replay-x3", False), ("replay-x3-copies", True)]:
        d = os.path.join(out, name)
        shutil.copytree(shared_scan, d, dirs_exist_ok=True)
        m = json.load(open(os.path.join(d, "scan.json")))
        frames = list(m["frames"])
        for k in (1, 2):
            for f in m["frames"]:
                g = dict(f)
                if copy:
                    g["depth"] = f["depth"].replace(".png", "-r%d.png" % k)
                    shutil.copy(os.path.join(d, f["depth"]), os.path.join(d, g["depth"]))
                frames.append(g)
        m["frames"] = frames
        json.dump(m, open(os.path.join(d, "scan.json"), "w"))
    # 7. fx = 1e-300 on a real scan.
    d = os.path.join(out, "fx-1e-300")
    shutil.copytree(shared_scan, d, dirs_exist_ok=True)
    m = json.load(open(os.path.join(d, "scan.json")))
    m["intrinsics"]["fx"] = 1e-300
    json.dump(m, open(os.path.join(d, "scan.json"), "w"))
    # 8. A bad last frame (landmarks of 20 points) after every good one.
    d = os.path.join(out, "bad-last-frame")
    shutil.copytree(shared_scan, d, dirs_exist_ok=True)
    m = json.load(open(os.path.join(d, "scan.json")))
    m["frames"][-1]["landmarks"] = [[1.0, 1.0]] * 20
    json.dump(m, open(os.path.join(d, "scan.json"), "w"))
# 4. File reads: symlink out of the folder, /dev/zero, a FIFO.
outside = os.path.join(out, "outside.png")
open(outside, "wb").write(png16(64, 48, struct.pack(">H", 300) * 64))
for name, target in [("symlink-outside", os.path.abspath(outside)), ("dev-zero", "/dev/zero")]:
    d = scan(name, 64, 48, 1)
    os.remove(os.path.join(d, "depth/000000.png"))
    os.symlink(target, os.path.join(d, "depth/000000.png"))
d = scan("fifo", 64, 48, 1)
os.remove(os.path.join(d, "depth/000000.png"))
os.mkfifo(os.path.join(d, "depth/000000.png"))
# 7. A scene that reaches the voxel cap: random depth, without and with a pose.
rng = random.Random(16)
for name, posed in [("voxel-cap", False)]:
  d = os.path.join(out, name)
  os.makedirs(os.path.join(d, "depth"), exist_ok=True)
  frames = []
  for i in range(3):
    w, h = 640, 480
    raw = b"".join(b"\0" + b"".join(struct.pack(">H", rng.randint(100, 600)) for _ in range(w)) for _ in range(h))
    def chunk(t, dd):
        return struct.pack(">I", len(dd)) + t + dd + struct.pack(">I", zlib.crc32(t + dd) & 0xFFFFFFFF)
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 0, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    open(os.path.join(d, "depth/%06d.png" % i), "wb").write(png)
    frames.append(entry("depth/%06d.png" % i, i, pose=posed))
  json.dump(manifest(640, 480, frames), open(os.path.join(d, "scan.json"), "w"))
# A wall seen from twelve places 0.6 m apart: more surface than the voxel cap holds.
d = os.path.join(out, "voxel-cap-posed")
os.makedirs(os.path.join(d, "depth"), exist_ok=True)
wall = png16(640, 480, struct.pack(">H", 500) * 640)
frames = []
for i in range(12):
    open(os.path.join(d, "depth/%06d.png" % i), "wb").write(wall)
    e = entry("depth/%06d.png" % i, i)
    e["pose"][3] = 0.6 * i
    frames.append(e)
json.dump(manifest(640, 480, frames), open(os.path.join(d, "scan.json"), "w"))
# 8. Control bytes in a frame path; a 200 MB pose array; a 17-number pose.
d = scan("control-bytes", 64, 48, 1)
m = json.load(open(os.path.join(d, "scan.json")))
m["frames"][0]["depth"] = "depth/\x1b[2J\x1b[31mOWNED\x07.png"
json.dump(m, open(os.path.join(d, "scan.json"), "w"))
d = scan("pose-200mb", 64, 48, 1)
m = json.load(open(os.path.join(d, "scan.json")))
with open(os.path.join(d, "scan.json"), "w") as f:
    f.write(json.dumps(m).replace('"pose": [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]',
                                  '"pose": [' + "1.0," * (200_000_000 // 4) + '1.0]', 1))
d = scan("pose-17", 64, 48, 1)
m = json.load(open(os.path.join(d, "scan.json")))
m["frames"][0]["pose"] = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0]
json.dump(m, open(os.path.join(d, "scan.json"), "w"))
# 6. A 200 MB JSON number array to seal; 5. a 300 MB ciphertext to open.
with open(os.path.join(out, "numbers-200mb.json"), "w") as f:
    f.write("[" + "1," * (100_000_000 - 1) + "1]")
# Key files: binary, UTF-16, a directory.
open(os.path.join(out, "key-binary"), "wb").write(bytes(range(256)))
open(os.path.join(out, "key-utf16"), "wb").write("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n".encode("utf-16"))
os.makedirs(os.path.join(out, "key-dir"), exist_ok=True)
