"""The upstream adapter: everything that knows WeChat's URLs, tokens, JSON and errcodes."""
