mod decode;
mod encode;
mod stream;
