return Rpyc.Servers.ForkingWorker.Run(args);
