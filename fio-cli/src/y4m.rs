//! y4m input: the reader lives in fio-vision (tests there read the fixture videos too).

pub use fio_vision::y4m::Y4mReader;
