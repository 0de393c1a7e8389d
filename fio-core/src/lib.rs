//! OpenFIO pure logic.
