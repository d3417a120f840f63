//! Ring sizing systems: ISO 8653 and the national scales. (Being built: issue 4.)
