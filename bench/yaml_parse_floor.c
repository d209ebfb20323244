/* The floor of goal 3 of issue 18: how fast libyaml alone parses the given files, on one
 * thread. It reads every file into memory first (not timed), then only runs libyaml's event
 * parser (yaml_parser_parse until the end of the stream) over each one, building nothing.
 * Prints "BYTES EVENTS SECONDS" of the parse. Build: cc -O2 yaml_parse_floor.c -lyaml
 * Usage: yaml_parse_floor FILE... */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <yaml.h>

struct input {
    unsigned char* bytes;
    size_t size;
};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int read_all(const char* path, struct input* in) {
    FILE* f = fopen(path, "rb");
    if (!f) return perror(path), -1;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    in->bytes = malloc(size > 0 ? (size_t)size : 1);
    in->size = fread(in->bytes, 1, (size_t)size, f);
    fclose(f);
    return 0;
}

int main(int argc, char** argv) {
    if (argc < 2) return fprintf(stderr, "usage: %s FILE...\n", argv[0]), 2;
    struct input* inputs = calloc((size_t)argc, sizeof *inputs);
    size_t total = 0;
    for (int i = 1; i < argc; ++i) {
        if (read_all(argv[i], &inputs[i]) != 0) return 1;
        total += inputs[i].size;
    }
    unsigned long events = 0;
    const double start = now();
    for (int i = 1; i < argc; ++i) {
        yaml_parser_t parser;
        yaml_event_t event;
        yaml_parser_initialize(&parser);
        yaml_parser_set_input_string(&parser, inputs[i].bytes, inputs[i].size);
        int done = 0;
        while (!done) {
            if (!yaml_parser_parse(&parser, &event)) {
                fprintf(stderr, "%s: YAML error: %s\n", argv[i], parser.problem ? parser.problem : "?");
                return 1;
            }
            done = event.type == YAML_STREAM_END_EVENT;
            ++events;
            yaml_event_delete(&event);
        }
        yaml_parser_delete(&parser);
    }
    printf("%zu %lu %.6f\n", total, events, now() - start);
    return 0;
}
