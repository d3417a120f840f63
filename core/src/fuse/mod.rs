//! Truncated signed distance fusion into sparse voxel blocks, and raycasting the fused
//! model. (Being built: issue 2.)
