#pragma once
// One connection carrying several requests at once, for an application that answers
// FCGI_MPXS_CONNS=1 (pool.hpp negotiates it). Each request holds a request id (1..max, reused
// once the application ended it); its records go out through a WriteQueue (whole records, in
// turn), and what comes in is demultiplexed by request id to the request holding it.
//
// There is no flow control per request in FastCGI: the socket is always read, for everyone.
// So a request cannot make the application wait; its exchange bounds what it holds for a slow
// client and aborts the request past the bound (exchange.hpp). A request that ends early (its
// client left, its timeout ran out) sends FCGI_ABORT_REQUEST when the application has heard of
// it, and its id stays taken until the application's END_REQUEST: the connection stays open
// for the others. The connection breaking (EOF, reset, a protocol error) fails every request
// on it.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/unique_fd.hpp"
#include "fastcgi/record_parser.hpp"
#include "fastcgi/write_queue.hpp"
#include "http/context.hpp"

namespace c10k::fastcgi {

class Pool;

class MuxConnection final : public http::DescriptorTask {
public:
    /// What holds a request id: an exchange.
    class Request {
    public:
        /// A piece of this request's response. False when the request ended (and gave back
        /// its id) meanwhile.
        virtual bool on_multiplexed_piece(const Piece& piece) = 0;
        /// Its records waiting to be sent fell below kWritableMark (after want_writable).
        virtual void on_multiplexed_writable() = 0;
        /// The connection broke: the request holds no id any more, and fails.
        virtual void on_multiplexed_lost(std::string_view why) = 0;

    protected:
        ~Request() = default;
    };

    /// Told when a request's queue falls below this: enough to keep the socket busy.
    static constexpr std::size_t kWritableMark = 32 * 1024;

    /// `connecting`: a non-blocking connect is in progress. `buffer`: the pool's, read into.
    MuxConnection(Pool& pool, http::LoopContext& context, core::unique_fd fd, bool connecting,
                  std::size_t max_requests, std::vector<char>& buffer);
    ~MuxConnection();
    MuxConnection(const MuxConnection&) = delete;
    MuxConnection& operator=(const MuxConnection&) = delete;

    /// Starts watching the connection. False when the loop cannot.
    bool start();
    bool has_room() const { return taken_ < slots_.size(); }
    /// Requests holding an id (aborted ones awaiting END_REQUEST too).
    std::size_t taken() const { return taken_; }
    /// Gives `request` a free id (has_room first).
    std::uint16_t attach(Request& request);
    /// Queues whole records of request `id`, and sends what the socket takes now.
    void send(std::uint16_t id, std::string_view records);
    std::size_t queued(std::uint16_t id) const { return queue_.queued(id); }
    /// Whether `id`'s request wants on_multiplexed_writable.
    void want_writable(std::uint16_t id, bool want);
    /// The request is done with its id. `ended`: its END_REQUEST came, and the id is free.
    /// Else its unsent records are dropped and, when the application has heard of it,
    /// ABORT_REQUEST goes out and the id stays taken until the application ends it.
    void release(std::uint16_t id, bool ended);
    /// The loop stops: no request is left.
    void close();

    void on_ready(std::uint32_t events) override;

private:
    enum class SlotState { free, active, aborting };
    struct Slot {
        SlotState state = SlotState::free;
        Request* request = nullptr;
        bool wants_writable = false;
    };
    void flush();
    void read_in();
    void dispatch(const Piece& piece);
    void free_slot(std::uint16_t id);
    void update_watch();
    /// Fails every request and removes the connection (deletes this): the last thing done.
    void lost(std::string_view why);

    Pool& pool_;
    http::LoopContext& context_;
    core::unique_fd fd_;
    bool connecting_;
    std::vector<Slot> slots_;  ///< by request id - 1
    std::size_t taken_ = 0;
    std::vector<char>& buffer_;
    WriteQueue queue_;
    RecordParser parser_;
    std::uint32_t watched_ = 0;
    bool flushing_ = false;
    /// A send failed: the socket is shut down, and the next read reports the loss with this.
    std::string broken_;
};

}  // namespace c10k::fastcgi
