#include "program_runs.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace textcnn::testing {

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

ProgramRun run_program(const std::string& command, const std::string& err_path, const std::string& input_file) {
    const std::string line =
        command + " 2>" + err_path + (input_file.empty() ? " </dev/null" : " <" + input_file);
    FILE* pipe = popen(line.c_str(), "r");
    if (!pipe) throw std::runtime_error("cannot run: " + line);
    ProgramRun r;
    char buffer[4096];
    std::size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) r.out.append(buffer, n);
    const int status = pclose(pipe);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    r.err = read_text(err_path);
    return r;
}

std::pair<pid_t, int> start_with_stderr_pipe(const std::vector<std::string>& args) {
    int err_pipe[2];
    if (pipe(err_pipe) != 0) throw std::runtime_error("pipe failed");
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        // Only file descriptors here: flushing the parent's copied stdio buffers would print the
        // test log twice.
        dup2(err_pipe[1], 2);
        close(err_pipe[0]);
        close(err_pipe[1]);
        const int null_out = open("/dev/null", O_WRONLY), null_in = open("/dev/null", O_RDONLY);
        dup2(null_out, 1);
        dup2(null_in, 0);
        std::vector<char*> argv;
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        execv(args[0].c_str(), argv.data());
        _exit(127);
    }
    close(err_pipe[1]);
    return {pid, err_pipe[0]};
}

ProgramRun signal_after(const std::vector<std::string>& args, const std::string& marker, int signal) {
    const auto [pid, err_fd] = start_with_stderr_pipe(args);
    ProgramRun r;
    bool signalled = false;
    char buffer[4096];
    ssize_t n;
    while ((n = read(err_fd, buffer, sizeof buffer)) > 0) {
        r.err.append(buffer, static_cast<std::size_t>(n));
        if (!signalled && r.err.find(marker) != std::string::npos) {
            kill(pid, signal);
            signalled = true;
        }
    }
    close(err_fd);
    int status = 0;
    waitpid(pid, &status, 0);
    r.code = !signalled ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return r;
}

}  // namespace textcnn::testing
