"""The demo's data: a generated, realistically messy lead list, a generated national registry, and the sample
campaign built from them through the real import path."""
