/* shmprobe: shared-memory coherence probe for the CRI conformance tests.
 * shmprobe write PATH TEXT  - creates PATH (one page), maps it MAP_SHARED, copies TEXT in, says
 *                             "mapped", and keeps the mapping without msync until killed.
 * shmprobe read PATH        - maps PATH MAP_SHARED and prints what the mapping holds. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) { fprintf(stderr, "usage: shmprobe write PATH TEXT | read PATH\n"); return 2; }
    int writing = strcmp(argv[1], "write") == 0;
    int fd = open(argv[2], writing ? O_RDWR | O_CREAT : O_RDWR, 0666);
    if (fd < 0) { perror("open"); return 1; }
    if (writing && ftruncate(fd, 4096) != 0) { perror("ftruncate"); return 1; }
    char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) { perror("mmap"); return 1; }
    if (writing) {
        if (argc < 4) { fprintf(stderr, "write needs TEXT\n"); return 2; }
        strncpy(p, argv[3], 4095);
        printf("mapped\n");
        fflush(stdout);
        for (;;) pause();
    }
    printf("read=%.*s\n", (int)strnlen(p, 4095), p);
    return 0;
}
