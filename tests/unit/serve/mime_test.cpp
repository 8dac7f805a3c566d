#include "serve/mime.hpp"

#include <gtest/gtest.h>

namespace c10k::serve {
namespace {

TEST(MimeType, TextTypesCarryCharset) {
    EXPECT_EQ(mime_type("/index.html"), "text/html; charset=utf-8");
    EXPECT_EQ(mime_type("a.htm"), "text/html; charset=utf-8");
    EXPECT_EQ(mime_type("/s/site.css"), "text/css; charset=utf-8");
    EXPECT_EQ(mime_type("app.js"), "text/javascript; charset=utf-8");
    EXPECT_EQ(mime_type("mod.mjs"), "text/javascript; charset=utf-8");
    EXPECT_EQ(mime_type("notes.txt"), "text/plain; charset=utf-8");
    EXPECT_EQ(mime_type("README.md"), "text/markdown; charset=utf-8");
    EXPECT_EQ(mime_type("data.csv"), "text/csv; charset=utf-8");
    EXPECT_EQ(mime_type("feed.xml"), "text/xml; charset=utf-8");
}

TEST(MimeType, BinaryAndApplicationTypes) {
    EXPECT_EQ(mime_type("data.json"), "application/json");
    EXPECT_EQ(mime_type("logo.svg"), "image/svg+xml");
    EXPECT_EQ(mime_type("a.png"), "image/png");
    EXPECT_EQ(mime_type("a.jpg"), "image/jpeg");
    EXPECT_EQ(mime_type("a.jpeg"), "image/jpeg");
    EXPECT_EQ(mime_type("a.gif"), "image/gif");
    EXPECT_EQ(mime_type("a.webp"), "image/webp");
    EXPECT_EQ(mime_type("favicon.ico"), "image/x-icon");
    EXPECT_EQ(mime_type("f.woff"), "font/woff");
    EXPECT_EQ(mime_type("f.woff2"), "font/woff2");
    EXPECT_EQ(mime_type("f.ttf"), "font/ttf");
    EXPECT_EQ(mime_type("doc.pdf"), "application/pdf");
    EXPECT_EQ(mime_type("m.wasm"), "application/wasm");
    EXPECT_EQ(mime_type("v.mp4"), "video/mp4");
    EXPECT_EQ(mime_type("v.webm"), "video/webm");
    EXPECT_EQ(mime_type("s.mp3"), "audio/mpeg");
    EXPECT_EQ(mime_type("a.zip"), "application/zip");
    EXPECT_EQ(mime_type("a.tar.gz"), "application/gzip");
    EXPECT_EQ(mime_type("a.tar"), "application/x-tar");
}

TEST(MimeType, ExtensionIsCaseInsensitive) {
    EXPECT_EQ(mime_type("/PHOTO.JPG"), "image/jpeg");
    EXPECT_EQ(mime_type("Index.HTML"), "text/html; charset=utf-8");
}

TEST(MimeType, UnknownOrMissingExtension) {
    EXPECT_EQ(mime_type("Makefile"), "application/octet-stream");
    EXPECT_EQ(mime_type("a.unknownext"), "application/octet-stream");
    EXPECT_EQ(mime_type("/dir.html/file"), "application/octet-stream");
    EXPECT_EQ(mime_type(".bashrc"), "application/octet-stream");
    EXPECT_EQ(mime_type("trailing."), "application/octet-stream");
    EXPECT_EQ(mime_type(""), "application/octet-stream");
}

}  // namespace
}  // namespace c10k::serve
