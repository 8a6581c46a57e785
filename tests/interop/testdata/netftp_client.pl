#!/usr/bin/perl
# One step of the port21 interop matrix, done with Perl's Net::FTP (core
# since 5.x; explicit FTPS with starttls since libnet 3.0, through
# IO::Socket::SSL).
#
# The Go test runs this script once per step. Net::FTP's debug output (the
# dialogue, ">>> CMD" and "<<< reply", with the password masked) goes to
# standard error, the step's result (a listing) to standard output. It
# exits 0 on success, 1 when the server or the network refused, 2 on bad
# usage.
#
# Net::FTP means to resume the control connection's TLS session on data
# connections: it shares the control connection's SSL context and session
# cache, and stores the session under the host name (SSL_session_key). In
# active mode the data connection looks the session up under that key and
# resumes it; in passive mode (libnet 3.14) it passes no SSL_session_key, so
# IO::Socket::SSL looks under "address:port" of the data connection, finds
# nothing, and makes a full handshake, which port21 refuses (522). --tls
# reuse sets that key as a client default, which fixes passive mode; --tls
# stock leaves Net::FTP as it is (for --tls-reuse-optional accounts).
use strict;
use warnings;
use Getopt::Long;
use Net::FTP;

my %o = (tls => 'reuse', 'tls-max' => '1.3', mode => 'passive', timeout => 20);
GetOptions(\%o, 'host=s', 'port=i', 'user=s', 'password=s', 'cafile=s', 'tls=s', 'tls-max=s',
    'mode=s', 'step=s', 'remote=s', 'local=s', 'new=s', 'timeout=i') or exit 2;
for my $k (qw(host port user password step)) {
    defined $o{$k} or do { print STDERR "netftp_client.pl: --$k is required\n"; exit 2 };
}

sub fail {
    my ($ftp, $what) = @_;
    my $msg = $ftp ? $ftp->message : $@;
    $msg = '' unless defined $msg;
    chomp $msg;
    print STDERR "ERROR: $what failed: $msg\n";
    exit 1;
}

my @ssl;
if ($o{tls} eq 'reuse') {
    # The one-line fix: the key Net::FTP stores the control session under.
    IO::Socket::SSL::set_client_defaults(SSL_session_key => $o{host});
}
if ($o{tls} ne 'none') {
    # port21's generated certificate names localhost and the loopback addresses.
    @ssl = (SSL_ca_file => $o{cafile}, SSL_verifycn_name => 'localhost', SSL_hostname => 'localhost');
    push @ssl, (SSL_version => 'SSLv23:!TLSv1_3') if $o{'tls-max'} eq '1.2';
}
my $ftp = Net::FTP->new($o{host}, Port => $o{port}, Timeout => $o{timeout}, Debug => 1,
    Passive => ($o{mode} eq 'passive' ? 1 : 0), @ssl) or fail(undef, 'connect');
if ($o{tls} ne 'none') {
    $ftp->starttls() or fail($ftp, 'starttls');
    print STDERR "*info* TLS version: ", $ftp->get_sslversion, "\n";
}
$ftp->login($o{user}, $o{password}) or fail($ftp, 'login');
$ftp->binary or fail($ftp, 'TYPE I');

my $step = $o{step};
if ($step eq 'list') {
    # dir returns the lines it got, even when the transfer failed.
    my $lines = $ftp->dir('.');
    $lines && $ftp->code =~ /^2/ or fail($ftp, 'LIST');
    print "$_\n" for @$lines;
} elsif ($step eq 'upload') {
    $ftp->put($o{local}, $o{remote}) or fail($ftp, 'put');
} elsif ($step eq 'download') {
    $ftp->get($o{remote}, $o{local}) or fail($ftp, 'get');
} elsif ($step eq 'resume-download') {
    # get's third argument: REST from there, appending to the local file.
    $ftp->get($o{remote}, $o{local}, -s $o{local}) or fail($ftp, 'get with REST');
} elsif ($step eq 'resume-upload') {
    # Ask the server how much it has and append the rest (APPE).
    my $have = $ftp->size($o{remote});
    defined $have or fail($ftp, 'SIZE');
    open(my $fh, '<:raw', $o{local}) or die "open $o{local}: $!";
    seek($fh, $have, 0) or die "seek: $!";
    $ftp->append($fh, $o{remote}) or fail($ftp, 'append');
    close $fh;
} elsif ($step eq 'mkdir') {
    $ftp->mkdir($o{remote}) or fail($ftp, 'mkdir');
} elsif ($step eq 'rename') {
    $ftp->rename($o{remote}, $o{new}) or fail($ftp, 'rename');
} elsif ($step eq 'delete') {
    $ftp->delete($o{remote}) or fail($ftp, 'delete');
} elsif ($step eq 'rmdir') {
    $ftp->rmdir($o{remote}) or fail($ftp, 'rmdir');
} else {
    print STDERR "netftp_client.pl: unknown step $step\n";
    exit 2;
}
$ftp->quit;
exit 0;
