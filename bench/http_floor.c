/* The floor of goal 1 of issue 26 (one policy, push and pull): the least a program must do to
 * send the requests karmor sends, with the libcurl karmor loads. It opens that libcurl with
 * dlopen, as karmor does, sets up one easy handle and sends the requests one after the other on
 * its connection; nothing is parsed, checked, written or kept.
 *
 * Usage: http_floor LIBCURL CA_FILE|- REQUEST...
 *   REQUEST is METHOD[:STATUS] URL, or PUT[:STATUS] URL FILE CONTENT_TYPE for a body.
 *   STATUS is the status the request must get (default: any 2xx), e.g. GET:404 for the tag a
 *   push asks for first. Exits 1, saying why, when a request fails or gets another status.
 * Build: cc -O2 http_floor.c -ldl */
#include <curl/curl.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct libcurl {
    CURLcode (*global_init)(long);
    CURL* (*easy_init)(void);
    CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
    CURLcode (*easy_perform)(CURL*);
    CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
    const char* (*easy_strerror)(CURLcode);
    struct curl_slist* (*slist_append)(struct curl_slist*, const char*);
    void (*slist_free_all)(struct curl_slist*);
};

static void* symbol(void* library, const char* name) {
    void* address = dlsym(library, name);
    if (!address) {
        fprintf(stderr, "http_floor: %s is not in the libcurl given\n", name);
        exit(1);
    }
    return address;
}

static size_t discard(char* data, size_t size, size_t count, void* user) {
    (void)data;
    (void)user;
    return size * count;
}

static char* read_file(const char* path, long* size) {
    FILE* file = fopen(path, "rb");
    if (!file || fseek(file, 0, SEEK_END) != 0 || (*size = ftell(file)) < 0 || fseek(file, 0, SEEK_SET) != 0) {
        fprintf(stderr, "http_floor: cannot read %s\n", path);
        exit(1);
    }
    char* bytes = malloc((size_t)*size + 1);
    if (!bytes || fread(bytes, 1, (size_t)*size, file) != (size_t)*size) {
        fprintf(stderr, "http_floor: cannot read %s\n", path);
        exit(1);
    }
    fclose(file);
    return bytes;
}

int main(int argc, char** argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: http_floor LIBCURL CA_FILE|- METHOD[:STATUS] URL [FILE CONTENT_TYPE] ...\n");
        return 2;
    }
    void* library = dlopen(argv[1], RTLD_NOW);
    if (!library) {
        fprintf(stderr, "http_floor: %s\n", dlerror());
        return 1;
    }
    struct libcurl curl = {
        .global_init = symbol(library, "curl_global_init"),
        .easy_init = symbol(library, "curl_easy_init"),
        .easy_setopt = symbol(library, "curl_easy_setopt"),
        .easy_perform = symbol(library, "curl_easy_perform"),
        .easy_getinfo = symbol(library, "curl_easy_getinfo"),
        .easy_strerror = symbol(library, "curl_easy_strerror"),
        .slist_append = symbol(library, "curl_slist_append"),
        .slist_free_all = symbol(library, "curl_slist_free_all"),
    };
    curl.global_init(CURL_GLOBAL_DEFAULT);
    CURL* handle = curl.easy_init();
    const char* ca_file = argv[2];
    if (strcmp(ca_file, "-") != 0) curl.easy_setopt(handle, CURLOPT_CAINFO, ca_file);
    curl.easy_setopt(handle, CURLOPT_WRITEFUNCTION, discard);
    /* The Accept header of karmor's manifest requests: docker-registry answers an OCI
     * manifest only to a client that accepts it. */
    struct curl_slist* accept = curl.slist_append(
        NULL, "Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json");
    for (int i = 3; i < argc;) {
        char method[16] = {0};
        long expected = 0;
        if (sscanf(argv[i], "%15[A-Z]:%ld", method, &expected) < 1 || i + 1 >= argc) {
            fprintf(stderr, "http_floor: a request is METHOD[:STATUS] URL, not %s\n", argv[i]);
            return 2;
        }
        const char* url = argv[i + 1];
        i += 2;
        struct curl_slist* headers = accept;
        char* body = NULL;
        long body_size = 0;
        curl.easy_setopt(handle, CURLOPT_URL, url);
        curl.easy_setopt(handle, CURLOPT_NOBODY, strcmp(method, "HEAD") == 0 ? 1L : 0L);
        curl.easy_setopt(handle, CURLOPT_CUSTOMREQUEST, strcmp(method, "PUT") == 0 ? "PUT" : NULL);
        if (strcmp(method, "PUT") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "http_floor: PUT %s needs FILE CONTENT_TYPE\n", url);
                return 2;
            }
            body = read_file(argv[i], &body_size);
            static char content_type[512];
            snprintf(content_type, sizeof content_type, "Content-Type: %s", argv[i + 1]);
            headers = curl.slist_append(curl.slist_append(NULL, content_type), "Expect:");
            curl.easy_setopt(handle, CURLOPT_POSTFIELDS, body);
            curl.easy_setopt(handle, CURLOPT_POSTFIELDSIZE, body_size);
            i += 2;
        } else {
            curl.easy_setopt(handle, CURLOPT_HTTPGET, 1L);
            curl.easy_setopt(handle, CURLOPT_NOBODY, strcmp(method, "HEAD") == 0 ? 1L : 0L);
        }
        curl.easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
        const CURLcode code = curl.easy_perform(handle);
        if (code != CURLE_OK) {
            fprintf(stderr, "http_floor: %s %s: %s\n", method, url, curl.easy_strerror(code));
            return 1;
        }
        long status = 0;
        curl.easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
        if (expected ? status != expected : status / 100 != 2) {
            fprintf(stderr, "http_floor: %s %s: HTTP %ld\n", method, url, status);
            return 1;
        }
        if (headers != accept) curl.slist_free_all(headers);
        free(body);
    }
    return 0;
}
