//! `verity serve`'s HTTP service, exercised over real sockets: the API's answers and errors,
//! its limits, following index generations, shutdown, and the search page in a real browser.

mod api;
mod browser;
mod common;
mod lifecycle;
