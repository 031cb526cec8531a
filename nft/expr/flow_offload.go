package expr

// attrFlowTableName is NFTA_FLOW_TABLE_NAME (x/sys/unix lacks it).
const attrFlowTableName = 1

// FlowOffload adds the connection to a flowtable (nft's `flow add @ft`).
type FlowOffload struct{ Table string }

func (f *FlowOffload) Name() string    { return "flow_offload" }
func (f *FlowOffload) validate() error { return checkName("flow offload table", f.Table) }

func (f *FlowOffload) marshal(ae *enc) error {
	ae.String(attrFlowTableName, f.Table)
	return nil
}

func (f *FlowOffload) unmarshal(ad *dec) error {
	for ad.Next() {
		if ad.Kind() != attrFlowTableName {
			return errUnknownAttr
		}
		f.Table = ad.String()
	}
	return nil
}
