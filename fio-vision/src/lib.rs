//! OpenFIO face pipeline.
