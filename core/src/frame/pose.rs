//! Camera poses: validation and conversion from platform conventions to the scan format's.
//!
//! Inside mandrel a pose is camera-to-world, metres, with OpenCV camera axes (x right,
//! y down, z forward). ARKit (`ARCamera.transform`) and ARCore (`Camera.getPose()`, which
//! is the OpenGL camera) both use x right, y up, z backward on the camera side; their world
//! frames (gravity-aligned, y up) are kept as they are. The conversion is a right
//! multiplication by diag(1, -1, -1): `T_opencv = T_platform * diag(1, -1, -1, 1)`.

use super::FrameError;
use nalgebra::{Isometry3, Matrix3, Matrix4, Rotation3, Translation3, UnitQuaternion, Vector3};

/// Farthest a camera may be from the world origin (metres) before a pose is called absurd.
pub const MAX_POSE_DISTANCE_M: f64 = 100.0;

/// Tolerance on `R^T R = I` and `det R = 1` for a matrix to count as a rotation.
const ROTATION_TOLERANCE: f64 = 1e-3;

/// Checks a pose is finite and within [`MAX_POSE_DISTANCE_M`] of the origin.
pub fn validate(pose: &Isometry3<f64>) -> Result<(), FrameError> {
    let t = pose.translation.vector;
    let q = pose.rotation.coords;
    if !t.iter().chain(q.iter()).all(|v| v.is_finite()) {
        return Err(FrameError::Pose("pose has non-finite entries".into()));
    }
    if t.norm() > MAX_POSE_DISTANCE_M {
        return Err(FrameError::Pose(format!(
            "camera is {:.1} m from the world origin (limit {MAX_POSE_DISTANCE_M} m); units must be metres",
            t.norm()
        )));
    }
    Ok(())
}

/// Builds a pose from a 4x4 matrix given row-major (16 numbers, as in `scan.json`),
/// checking it is a finite rigid transform with bottom row (0, 0, 0, 1).
pub fn from_row_major(m: &[f64]) -> Result<Isometry3<f64>, FrameError> {
    if m.len() != 16 {
        return Err(FrameError::Pose(format!(
            "expected 16 numbers (4x4 row-major), got {}",
            m.len()
        )));
    }
    from_matrix(&Matrix4::from_row_slice(m))
}

/// Builds a pose from a column-major 4x4 (the memory layout of `simd_float4x4` in ARKit and
/// of ARCore's `Pose.toMatrix`), checking it is rigid.
pub fn from_column_major(m: &[f64]) -> Result<Isometry3<f64>, FrameError> {
    if m.len() != 16 {
        return Err(FrameError::Pose(format!(
            "expected 16 numbers (4x4 column-major), got {}",
            m.len()
        )));
    }
    from_matrix(&Matrix4::from_column_slice(m))
}

/// Builds a pose from a 4x4 homogeneous matrix, checking it is a finite rigid transform.
pub fn from_matrix(m: &Matrix4<f64>) -> Result<Isometry3<f64>, FrameError> {
    if !m.iter().all(|v| v.is_finite()) {
        return Err(FrameError::Pose("matrix has non-finite entries".into()));
    }
    let bottom = m.fixed_view::<1, 4>(3, 0);
    if (bottom[0].abs() + bottom[1].abs() + bottom[2].abs() + (bottom[3] - 1.0).abs()) > 1e-6 {
        return Err(FrameError::Pose(format!(
            "bottom row must be (0, 0, 0, 1), got {bottom}"
        )));
    }
    let r: Matrix3<f64> = m.fixed_view::<3, 3>(0, 0).into_owned();
    let ortho_err = (r.transpose() * r - Matrix3::identity()).abs().max();
    let det = r.determinant();
    if ortho_err > ROTATION_TOLERANCE || (det - 1.0).abs() > ROTATION_TOLERANCE {
        return Err(FrameError::Pose(format!(
            "upper-left 3x3 is not a rotation (|R^T R - I| = {ortho_err:.2e}, det = {det:.4})"
        )));
    }
    let rot = UnitQuaternion::from_rotation_matrix(&Rotation3::from_matrix_unchecked(r));
    let t = Vector3::new(m[(0, 3)], m[(1, 3)], m[(2, 3)]);
    let pose = Isometry3::from_parts(Translation3::from(t), rot);
    validate(&pose)?;
    Ok(pose)
}

/// Row-major 4x4 of a pose (the `scan.json` layout).
pub fn to_row_major(pose: &Isometry3<f64>) -> [f64; 16] {
    let m = pose.to_homogeneous();
    let mut out = [0.0; 16];
    for r in 0..4 {
        for c in 0..4 {
            out[r * 4 + c] = m[(r, c)];
        }
    }
    out
}

fn flip_yz() -> Isometry3<f64> {
    Isometry3::from_parts(
        Translation3::identity(),
        UnitQuaternion::from_axis_angle(&Vector3::x_axis(), std::f64::consts::PI),
    )
}

/// ARKit `ARCamera.transform` (camera-to-world, camera x right, y up, z backward; world
/// gravity-aligned y up) to mandrel's OpenCV camera axes. Input is column-major, as
/// `simd_float4x4` lies in memory.
pub fn from_arkit_column_major(m: &[f64]) -> Result<Isometry3<f64>, FrameError> {
    Ok(from_column_major(m)? * flip_yz())
}

/// ARCore `Frame.getCamera().getPose()` (the OpenGL camera: x right, y up, z backward),
/// given as `Pose.toMatrix` (column-major), to mandrel's OpenCV camera axes. Note that
/// `getDisplayOrientedPose()` is rotated for the screen and must not be passed here.
pub fn from_arcore_column_major(m: &[f64]) -> Result<Isometry3<f64>, FrameError> {
    Ok(from_column_major(m)? * flip_yz())
}

/// ARCore pose given as translation (tx, ty, tz) and quaternion (qx, qy, qz, qw), the
/// layout of `Pose.getTranslation()`/`getRotationQuaternion()`.
pub fn from_arcore_translation_quaternion(
    t: [f64; 3],
    q: [f64; 4],
) -> Result<Isometry3<f64>, FrameError> {
    if !t.iter().chain(q.iter()).all(|v| v.is_finite()) {
        return Err(FrameError::Pose(
            "translation/quaternion has non-finite entries".into(),
        ));
    }
    let quat = nalgebra::Quaternion::new(q[3], q[0], q[1], q[2]);
    let n = quat.norm();
    if (n - 1.0).abs() > 1e-2 {
        return Err(FrameError::Pose(format!(
            "quaternion norm is {n:.4}, expected 1"
        )));
    }
    let pose = Isometry3::from_parts(
        Translation3::new(t[0], t[1], t[2]),
        UnitQuaternion::from_quaternion(quat),
    );
    validate(&pose)?;
    Ok(pose * flip_yz())
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::Point3;

    #[test]
    fn row_major_round_trip() {
        let p = Isometry3::new(Vector3::new(0.1, -0.2, 0.3), Vector3::new(0.2, 0.5, -0.1));
        let back = from_row_major(&to_row_major(&p)).unwrap();
        assert!((back.to_homogeneous() - p.to_homogeneous()).abs().max() < 1e-9);
    }

    #[test]
    fn arkit_camera_looking_down_minus_z_becomes_opencv_plus_z() {
        // ARKit identity transform: camera at origin looking along world -z.
        let id: Vec<f64> = Matrix4::<f64>::identity().as_slice().to_vec();
        let pose = from_arkit_column_major(&id).unwrap();
        // A point 1 m in front of the camera in OpenCV axes (z forward) is at world -z.
        let w = pose * Point3::new(0.0, 0.0, 1.0);
        assert!((w - Point3::new(0.0, 0.0, -1.0)).norm() < 1e-12);
        // Image "down" (OpenCV +y) is world -y (ARKit y up).
        let d = pose * Point3::new(0.0, 1.0, 0.0);
        assert!((d - Point3::new(0.0, -1.0, 0.0)).norm() < 1e-12);
    }

    #[test]
    fn rejects_bad_poses() {
        let mut m = to_row_major(&Isometry3::identity());
        m[0] = f64::NAN;
        assert!(matches!(from_row_major(&m), Err(FrameError::Pose(_))));
        let mut m = to_row_major(&Isometry3::identity());
        m[0] = 2.0; // scaled, not rigid
        assert!(matches!(from_row_major(&m), Err(FrameError::Pose(_))));
        let mut m = to_row_major(&Isometry3::identity());
        m[3] = 1e6; // absurd distance
        assert!(matches!(from_row_major(&m), Err(FrameError::Pose(_))));
        assert!(from_row_major(&[1.0; 15]).is_err());
        assert!(from_arcore_translation_quaternion([0.0; 3], [0.0, 0.0, 0.0, 2.0]).is_err());
    }
}
