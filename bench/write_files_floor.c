/* The floor of goal 4 of issue 18: the least a program must do to put the files of SRC_DIR
 * into DEST on the same file system karmor pulls into, doing what `karmor oci pull` does to a
 * new output directory (src/ops/output_directory.cpp):
 *   - a fresh directory beside DEST (mkdtemp), every file created in it with
 *     open(O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC, 0644), one write, close;
 *   - no fsync of the files (karmor does not fsync them either; see docs/benchmarks.md);
 *   - the directory renamed to DEST at the end, so that DEST appears complete or not at all.
 * One thread: karmor writes on every core, which is counted in its favour.
 * Reads SRC_DIR into memory first (not timed); prints "FILES SECONDS" of the writing.
 * Build: cc -O2 write_files_floor.c    Usage: write_files_floor SRC_DIR DEST */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct file {
    char name[256];
    char* bytes;
    size_t size;
};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
    if (argc != 3) return fprintf(stderr, "usage: %s SRC_DIR DEST\n", argv[0]), 2;
    DIR* dir = opendir(argv[1]);
    if (!dir) return perror(argv[1]), 1;
    size_t count = 0, capacity = 1024;
    struct file* files = malloc(capacity * sizeof *files);
    for (struct dirent* entry; (entry = readdir(dir)) != NULL;) {
        if (entry->d_name[0] == '.') continue;
        if (count == capacity) files = realloc(files, (capacity *= 2) * sizeof *files);
        struct file* f = &files[count++];
        snprintf(f->name, sizeof f->name, "%s", entry->d_name);
        int fd = openat(dirfd(dir), entry->d_name, O_RDONLY | O_CLOEXEC);
        struct stat info;
        if (fd < 0 || fstat(fd, &info) != 0) return perror(entry->d_name), 1;
        f->size = (size_t)info.st_size;
        f->bytes = malloc(f->size + 1);
        if (read(fd, f->bytes, f->size) != (ssize_t)f->size) return perror(entry->d_name), 1;
        close(fd);
    }
    closedir(dir);

    const double start = now();
    char temp[4096];
    snprintf(temp, sizeof temp, "%s.floor-tmp-XXXXXX", argv[2]);
    if (!mkdtemp(temp)) return perror(temp), 1;
    int out = open(temp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (out < 0) return perror(temp), 1;
    for (size_t i = 0; i < count; ++i) {
        int fd = openat(out, files[i].name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, files[i].bytes, files[i].size) != (ssize_t)files[i].size || close(fd) != 0)
            return perror(files[i].name), 1;
    }
    close(out);
    if (chmod(temp, 0755) != 0 || rename(temp, argv[2]) != 0) return perror(argv[2]), 1;
    printf("%zu %.6f\n", count, now() - start);
    return 0;
}
