#!/usr/bin/env python3
"""Renders a band STL to a PNG (matplotlib, shaded by the facet normals): a 3/4 view and
the view along the finger axis. Usage: render_band.py BAND.stl OUT.png"""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import trimesh
from mpl_toolkits.mplot3d.art3d import Poly3DCollection


def main(stl, png):
    mesh = trimesh.load(stl, force="mesh")
    light = np.array([0.4, -0.5, 0.75])
    light /= np.linalg.norm(light)
    shade = 0.25 + 0.75 * np.clip(mesh.face_normals @ light, 0, 1)
    colours = np.c_[shade * 0.85, shade * 0.7, shade * 0.3, np.ones_like(shade)]
    fig = plt.figure(figsize=(10, 5), dpi=120)
    for k, (elev, azim, title) in enumerate([(25, -60, "3/4 view"), (90, -90, "along the finger axis")]):
        ax = fig.add_subplot(1, 2, k + 1, projection="3d")
        ax.add_collection3d(Poly3DCollection(mesh.triangles, facecolors=colours, edgecolor="none"))
        lo, hi = mesh.bounds
        c, r = (lo + hi) / 2, (hi - lo).max() / 2
        ax.set_xlim(c[0] - r, c[0] + r)
        ax.set_ylim(c[1] - r, c[1] + r)
        ax.set_zlim(c[2] - r, c[2] + r)
        ax.view_init(elev=elev, azim=azim)
        ax.set_title(title)
        ax.set_xlabel("x mm")
        ax.set_ylabel("y mm")
    fig.suptitle(f"{stl}: {len(mesh.faces)} triangles, watertight {mesh.is_watertight}")
    fig.tight_layout()
    fig.savefig(png)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
