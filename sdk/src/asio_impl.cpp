// The one translation unit that compiles Asio, Asio SSL and Beast (separate compilation):
// other TUs include only their headers, which keeps builds fast on small machines.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
