/* A CGI program in C for the CGI tests: no shell between the server and what the program does
 * with its pipes. QUERY_STRING picks what it does:
 *   echo   reads its standard input to EOF, then answers how many bytes it read
 *   crash  aborts before writing anything (the server answers 502)
 *   big    writes 8 MiB with a Content-Length, in 64 KiB writes
 *   env    answers its CONTENT_LENGTH, HTTP_PROXY and SERVER_SOFTWARE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void write_all(const char* data, size_t size) {
    while (size > 0) {
        ssize_t n = write(1, data, size);
        if (n <= 0) exit(1);
        data += n;
        size -= (size_t)n;
    }
}

int main(void) {
    const char* query = getenv("QUERY_STRING");
    char text[512];
    if (query == NULL) query = "";
    if (strcmp(query, "echo") == 0) {
        char buffer[65536];
        unsigned long total = 0;
        ssize_t n;
        while ((n = read(0, buffer, sizeof buffer)) > 0) total += (unsigned long)n;
        int length = snprintf(text, sizeof text, "Content-Type: text/plain\r\n\r\nread %lu bytes\n",
                              total);
        write_all(text, (size_t)length);
        return 0;
    }
    if (strcmp(query, "crash") == 0) abort();
    if (strcmp(query, "big") == 0) {
        static char chunk[65536];
        const unsigned long total = 8UL << 20;
        memset(chunk, 'x', sizeof chunk);
        int length = snprintf(text, sizeof text,
                              "Content-Type: application/octet-stream\r\nContent-Length: %lu\r\n\r\n",
                              total);
        write_all(text, (size_t)length);
        for (unsigned long sent = 0; sent < total; sent += sizeof chunk) write_all(chunk, sizeof chunk);
        return 0;
    }
    if (strcmp(query, "env") == 0) {
        const char* proxy = getenv("HTTP_PROXY");
        const char* length = getenv("CONTENT_LENGTH");
        const char* software = getenv("SERVER_SOFTWARE");
        int n = snprintf(text, sizeof text,
                         "Status: 201 Made\r\nContent-Type: text/plain\r\n\r\n"
                         "CONTENT_LENGTH=%s HTTP_PROXY=%s SERVER_SOFTWARE=%s\n",
                         length ? length : "(unset)", proxy ? proxy : "(unset)",
                         software ? software : "(unset)");
        write_all(text, (size_t)n);
        return 0;
    }
    static const char unknown[] = "Status: 400 Bad Request\r\nContent-Type: text/plain\r\n\r\nunknown mode\n";
    write_all(unknown, sizeof unknown - 1);
    return 0;
}
