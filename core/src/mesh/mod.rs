//! Marching cubes over the fused voxel blocks, mesh clean-up, PLY and OBJ writers.
//! (Being built: issue 2.)
