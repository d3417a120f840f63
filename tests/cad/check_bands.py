#!/usr/bin/env python3
"""Independent checks of `mandrel cad` output (issue 20), with trimesh and ezdxf.

For every BAND.stl given (or found under the folders given) with its BAND.json (the
`mandrel cad --json` report) and BAND.dxf beside it:
  - trimesh: the mesh is watertight, winding-consistent, a positive volume (outward
    normals), Euler characteristic 0 (a band);
  - the inner perimeter, from trimesh's own cross-sections across the band (smallest of
    the inner loops), equals the ring circumference plus the clearance within 0.05 mm;
  - the wall: the distance from every outer-surface vertex to the inner surface (faces
    told apart by their normals, not by the writer's labels), and back, is at least the
    thickness asked minus 0.05 mm;
  - ezdxf reads the DXF: one closed LWPOLYLINE in millimetres ($INSUNITS 4) whose
    perimeter is the inner perimeter.
Prints one row per band and a summary; exits non-zero if any check fails.
"""
import json
import math
import sys
from pathlib import Path

import ezdxf
import numpy as np
import trimesh

TOL_MM = 0.05


def loop_perimeter(points):
    p = np.asarray(points)[:, :2]
    return float(np.sum(np.linalg.norm(np.roll(p, -1, axis=0) - p, axis=1)))


def loop_area(points):
    p = np.asarray(points)[:, :2]
    q = np.roll(p, -1, axis=0)
    return 0.5 * abs(float(np.sum(p[:, 0] * q[:, 1] - p[:, 1] * q[:, 0])))


def inner_perimeter(mesh, zmin, zmax):
    best = math.inf
    for f in np.linspace(0.05, 0.95, 19):
        z = zmin + f * (zmax - zmin)
        sec = mesh.section(plane_origin=[0, 0, z], plane_normal=[0, 0, 1])
        if sec is None:
            continue
        loops = sec.discrete
        if len(loops) != 2:
            raise AssertionError(f"section at z={z:.3f} has {len(loops)} loops, expected 2")
        inner = min(loops, key=loop_area)
        best = min(best, loop_perimeter(inner))
    return best


def wall(mesh):
    c = mesh.triangles_center
    radial = c[:, :2] / np.linalg.norm(c[:, :2], axis=1, keepdims=True)
    along = np.sum(mesh.face_normals[:, :2] * radial, axis=1)
    inner = mesh.submesh([np.where(along < -0.5)[0]], append=True)
    outer = mesh.submesh([np.where(along > 0.5)[0]], append=True)
    _, d1, _ = trimesh.proximity.closest_point(inner, outer.vertices)
    _, d2, _ = trimesh.proximity.closest_point(outer, inner.vertices)
    return float(min(d1.min(), d2.min()))


def check_dxf(path):
    doc = ezdxf.readfile(path)
    units = doc.header.get("$INSUNITS", 0)
    polys = [e for e in doc.modelspace() if e.dxftype() == "LWPOLYLINE"]
    if len(polys) != 1 or not polys[0].closed:
        raise AssertionError(f"{path}: expected one closed LWPOLYLINE, found {len(polys)}")
    pts = [(x, y) for x, y, *_ in polys[0].get_points()]
    return units, len(pts), loop_perimeter(pts)


def check(stl):
    report = json.loads(stl.with_suffix(".json").read_text())
    mesh = trimesh.load(stl, force="mesh")
    row = {
        "band": str(stl),
        "watertight": bool(mesh.is_watertight),
        "winding_consistent": bool(mesh.is_winding_consistent),
        "volume_mm3": float(mesh.volume),
        "euler": int(mesh.euler_number),
    }
    zmin, zmax = mesh.bounds[0][2], mesh.bounds[1][2]
    target = report["target_perimeter_mm"]
    row["inner_perimeter_mm"] = inner_perimeter(mesh, zmin, zmax)
    row["perimeter_error_mm"] = row["inner_perimeter_mm"] - target
    row["min_wall_mm"] = wall(mesh)
    row["thickness_mm"] = report["thickness_mm"]
    units, n, dxf_perimeter = check_dxf(stl.with_suffix(".dxf"))
    row["dxf_units"] = units
    row["dxf_points"] = n
    row["dxf_perimeter_error_mm"] = dxf_perimeter - report["inner_perimeter_mm"]
    failures = []
    if not (row["watertight"] and row["winding_consistent"] and row["volume_mm3"] > 0):
        failures.append("not a closed outward mesh")
    if row["euler"] != 0:
        failures.append(f"euler {row['euler']}")
    if abs(row["perimeter_error_mm"]) > TOL_MM:
        failures.append(f"perimeter error {row['perimeter_error_mm']:+.4f} mm")
    if row["min_wall_mm"] < row["thickness_mm"] - TOL_MM:
        failures.append(f"wall {row['min_wall_mm']:.4f} mm")
    if units != 4 or abs(row["dxf_perimeter_error_mm"]) > TOL_MM:
        failures.append(f"dxf units {units}, perimeter error {row['dxf_perimeter_error_mm']:+.4f}")
    row["failures"] = failures
    return row


def main(args):
    stls = []
    for a in args:
        p = Path(a)
        stls += sorted(p.rglob("*.stl")) if p.is_dir() else [p]
    stls = [s for s in stls if s.with_suffix(".json").exists()]
    if not stls:
        print("no band (.stl with its .json report) found", file=sys.stderr)
        return 2
    rows = []
    for s in stls:
        try:
            r = check(s)
        except Exception as e:  # a reader failure is a failed check, with its reason
            r = {"band": str(s), "failures": [f"{type(e).__name__}: {e}"]}
        rows.append(r)
        if "perimeter_error_mm" in r:
            print(
                f"{r['band']}: watertight {r['watertight']}, winding {r['winding_consistent']}, "
                f"volume {r['volume_mm3']:.1f} mm3, perimeter error {r['perimeter_error_mm']:+.4f} mm, "
                f"min wall {r['min_wall_mm']:.4f} mm (asked {r['thickness_mm']}), "
                f"dxf {r['dxf_points']} pts units {r['dxf_units']}"
                + (f"  FAIL {r['failures']}" if r["failures"] else "")
            )
        else:
            print(f"{r['band']}: FAIL {r['failures']}")
    ok = [r for r in rows if not r["failures"]]
    errs = [abs(r["perimeter_error_mm"]) for r in rows if "perimeter_error_mm" in r]
    walls = [r["min_wall_mm"] - r["thickness_mm"] for r in rows if "min_wall_mm" in r]
    print(
        f"{len(ok)} passed, {len(rows) - len(ok)} failed; "
        f"max |perimeter error| {max(errs, default=float('nan')):.4f} mm, "
        f"min (wall - thickness) {min(walls, default=float('nan')):+.4f} mm"
    )
    return 0 if len(ok) == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
